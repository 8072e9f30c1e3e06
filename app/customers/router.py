from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, status

from app.auth import service as auth
from app.auth.deps import CurrentUser, OwnerUser, StaffUser
from app.auth.schemas import TokenOut
from app.core.database import DB
from app.core.deps import AppSettings, Limiter
from app.core.openapi import errors
from app.core.ratelimit import client_address
from app.customers import service
from app.customers.schemas import (
    InvitationAccept,
    InvitationIn,
    InvitationLink,
    InvitationOut,
    InvitationPreview,
    MeOut,
    RegisterIn,
    RoleChange,
    UserCreate,
    UserOut,
)
from app.mail import service as mail
from app.mail.schemas import EmailOut

signup_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/api/users", tags=["users"])
emails_router = APIRouter(prefix="/api/emails", tags=["users"])


@signup_router.post(
    "/register",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
def register(
    body: RegisterIn, db: DB, request: Request, settings: AppSettings, limiter: Limiter
) -> TokenOut:
    """Create a customer and its owner user; returns a token for that owner."""
    # counted before anything is hashed or written: a flood of sign-ups costs nobody else
    limiter.hit(settings.signups_per_ip, "signup-ip", client_address(request), what="address")
    user = service.register(
        db,
        email=body.email,
        password=body.password,
        customer_name=body.customer_name,
        settings=settings,
    )
    return auth.issue_token(user, settings)


def link_throttle(request: Request, settings: AppSettings, limiter: Limiter) -> None:
    """Invitation links opened and accepted, counted per client address: nobody is signed in
    yet, and accepting hashes a password."""
    limiter.hit(
        settings.invitation_links_per_ip,
        "invitation-ip",
        client_address(request),
        what="address",
    )


@signup_router.post(
    "/invitations/inspect",
    response_model=InvitationPreview,
    dependencies=[Depends(link_throttle)],
)
def inspect_invitation(body: InvitationLink, db: DB) -> InvitationPreview:
    """What an invitation link offers (customer, address, role), for the accept screen; 400
    saying whether the link is invalid, expired, revoked or already used."""
    return service.inspect_invitation(db, body.token)


@signup_router.post(
    "/invitations/accept",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(link_throttle)],
    responses=errors(409),
)
def accept_invitation(body: InvitationAccept, db: DB, settings: AppSettings) -> TokenOut:
    """Creates the invitee's account with the password they chose and signs them in; a link
    works once. 400 as for inspect, 409 if the address got an account meanwhile."""
    user = service.accept_invitation(db, body.token, body.password)
    return auth.issue_token(user, settings)


@signup_router.get("/me", response_model=MeOut)
def me(user: CurrentUser, db: DB, settings: AppSettings) -> MeOut:
    return service.me(db, settings, user)


@router.get("", response_model=list[UserOut])
def list_users(user: StaffUser, db: DB):
    return service.list_users(db, user)


@router.post(
    "",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    deprecated=True,
    responses=errors(409),
)
def create_user(body: UserCreate, user: StaffUser, db: DB):
    """Deprecated: use `POST /api/users/invitations`, which emails the person a link to choose
    their own password. This creates the user with a password the caller chose and must pass
    on; kept for existing integrations."""
    return service.create_user(db, user, email=body.email, password=body.password, role=body.role)


@router.post(
    "/invitations",
    response_model=InvitationOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
def invite(
    body: InvitationIn, user: StaffUser, db: DB, settings: AppSettings, limiter: Limiter
) -> InvitationOut:
    """Emails a link to join this customer as `role`, valid 7 days; owners invite admins and
    members, admins members. Inviting an address again replaces its earlier link. 409 when the
    address already has an account (of any customer)."""
    limiter.hit(
        settings.invitations_per_customer,
        "invitations",
        str(user.customer_id),
        what="customer",
    )
    return service.invite(db, settings, user, email=body.email, role=body.role)


@router.get("/invitations", response_model=list[InvitationOut])
def list_invitations(user: StaffUser, db: DB) -> list[InvitationOut]:
    """Invitations not yet accepted, revoked or expired, newest first."""
    return service.pending_invitations(db, user)


@router.delete(
    "/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(409),
)
def revoke_invitation(invitation_id: uuid.UUID, user: StaffUser, db: DB) -> None:
    """Its link stops working; admins revoke members' invitations only. 409 once accepted."""
    service.revoke_invitation(db, user, invitation_id)


@router.patch("/{user_id}", response_model=UserOut, responses=errors(409))
def change_role(user_id: uuid.UUID, body: RoleChange, user: StaffUser, db: DB):
    """Make a member an admin or an admin a member (owners); admins manage members only."""
    return service.change_role(db, user, user_id, body.role)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(409))
def delete_user(user_id: uuid.UUID, user: StaffUser, db: DB) -> None:
    service.delete_user(db, user, user_id)


@emails_router.get("", response_model=list[EmailOut])
def list_emails(user: OwnerUser, db: DB):
    """The customer's last 100 emails, newest first, with their delivery status: pending ones
    are being tried again (`attempts`, `last_error`), failed ones were given up. Owners only."""
    return mail.recent(db, user)
