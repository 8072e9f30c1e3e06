"""Customers (tenants) and their people: sign-up creates a customer with its owner; owners and
admins invite the rest of the team by email and manage it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.auth import service as auth
from app.auth.models import User
from app.auth.repository import UserRepository
from app.core.config import Settings
from app.core.database import utcnow
from app.core.errors import BadRequest, Conflict, Forbidden
from app.core.security import generate_link_token, hash_password, hash_token
from app.core.subjects import AuthSubject, Role, UserSubject
from app.core.tenancy import act_for
from app.customers.models import Customer, Invitation, InvitedRole
from app.customers.repository import CustomerRepository, InvitationRepository
from app.customers.schemas import CustomerBrief, InvitationOut, InvitationPreview, MeOut
from app.mail import service as mail

INVITATION_DAYS = 7
# why a link no longer works, said to whoever holds it: it names nothing but its own invitation
REFUSALS = {
    "invalid": "This invitation link is not valid. Open the whole link from the email, "
    "or ask for a new invitation.",
    "used": "This invitation has already been accepted. Sign in with the password chosen then.",
    "revoked": "This invitation was withdrawn or replaced by a newer one. Use the link in the "
    "latest invitation email, or ask for a new invitation.",
    "expired": "This invitation has expired. Ask whoever invited you to send a new one.",
}


class InvitationRefused(BadRequest):
    """A link that does not work, with its reason in the code (`invitation_expired`, ...), so
    the accept screen can tell an expired link from a used one."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSALS[reason])
        self.code = f"invitation_{reason}"


def register(
    db: Session,
    *,
    email: str,
    password: str,
    customer_name: str,
    settings: Settings | None = None,
) -> User:
    """A new customer and its owner. The password is hashed before the first write. Given the
    settings of an install that requires verified addresses, the owner is emailed a link to
    verify theirs (`verified`)."""
    password_hash = hash_password(password)
    customer = Customer(
        id=uuid.uuid4(), name=customer_name.strip(), contact_email=auth.normalize_email(email)
    )
    act_for(db, customer.id)  # the request acts for the customer it creates
    db.add(customer)
    db.flush()
    owner = auth.create_user(
        db, customer_id=customer.id, email=email, password_hash=password_hash, role=Role.OWNER
    )
    if settings is not None and settings.require_email_verification:
        auth.send_verification(db, settings, owner)
    return owner


def verified(db: Session, settings: Settings, subject: AuthSubject) -> bool:
    """Whether the subject's customer counts as verified: its owner has verified their address
    (the one they signed up with), or this install does not ask for it. Until then its widget
    is not published and its secret keys answer only a demo's worth of questions
    (`app/chat/admission.py`)."""
    if not settings.require_email_verification:
        return True
    return UserRepository(db).owner_verified(subject)


def me(db: Session, settings: Settings, subject: UserSubject) -> MeOut:
    customer = CustomerRepository(db).of(subject)
    user = UserRepository(db).get(subject, subject.user_id)
    return MeOut(
        id=subject.user_id,
        email=subject.email,
        role=subject.role,
        email_verified=user.email_verified_at is not None,
        customer=CustomerBrief(
            id=customer.id,
            name=customer.name,
            plan=customer.plan,
            verified=verified(db, settings, subject),
        ),
    )


def list_users(db: Session, subject: UserSubject) -> Sequence[User]:
    return UserRepository(db).list(subject, order_by=User.created_at)


def create_user(
    db: Session, subject: UserSubject, *, email: str, password: str, role: InvitedRole
) -> User:
    """A user with a password the inviter chose (deprecated: `invite` sends a link instead)."""
    if role == InvitedRole.ADMIN and subject.role != Role.OWNER:
        raise Forbidden("Only owners can create admins")
    return auth.create_user(
        db,
        customer_id=subject.customer_id,
        email=email,
        password_hash=hash_password(password),
        role=Role(role),
    )


def change_role(db: Session, subject: UserSubject, user_id: uuid.UUID, role: InvitedRole) -> User:
    """Owners make members admins and back; admins manage members only. Owners keep their role."""
    user = UserRepository(db).get(subject, user_id)
    if user.id == subject.user_id:
        raise Conflict("You cannot change your own role")
    if user.role == Role.OWNER:
        raise Forbidden("An owner's role cannot be changed")
    if subject.role != Role.OWNER and Role.ADMIN in (user.role, role):
        raise Forbidden("Only owners can make or unmake admins")
    user.role = Role(role)
    db.flush()
    return user


def delete_user(db: Session, subject: UserSubject, user_id: uuid.UUID) -> None:
    user = UserRepository(db).get(subject, user_id)
    if user.id == subject.user_id:
        raise Conflict("You cannot delete yourself")
    if user.role == Role.OWNER:
        raise Forbidden("Owners cannot be deleted")
    if user.role == Role.ADMIN and subject.role != Role.OWNER:
        raise Forbidden("Only owners can delete admins")
    db.delete(user)
    db.flush()


# Invitations: a link by email, with which the invitee chooses their own password.


def invite(
    db: Session, settings: Settings, subject: UserSubject, *, email: str, role: InvitedRole
) -> InvitationOut:
    """Emails `email` a link to join the customer as `role`. An address is one account across
    customers, so one that has an account cannot be invited (409); the address's earlier
    invitations not yet accepted are revoked, so only the newest link works."""
    if role == InvitedRole.ADMIN and subject.role != Role.OWNER:
        raise Forbidden("Only owners can invite admins")
    email = auth.normalize_email(email)
    if UserRepository(db).email_taken(email):
        raise Conflict("A user with this email already exists")
    now = utcnow()
    InvitationRepository(db).revoke_for_address(subject, email, now)
    token = generate_link_token()
    invitation = Invitation(
        customer_id=subject.customer_id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by=subject.user_id,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    db.add(invitation)
    db.flush()
    _email_invitation(db, settings, subject, invitation, token)
    return _out(invitation, subject.email)


def _email_invitation(
    db: Session, settings: Settings, subject: UserSubject, invitation: Invitation, token: str
) -> None:
    """The link's token is in the fragment, which browsers never send to a server."""
    customer = CustomerRepository(db).of(subject).name
    mail.queue(
        db,
        settings,
        customer_id=subject.customer_id,
        to=invitation.email,
        kind="invitation",
        subject=f"Join {customer} on {settings.project_name}",
        sensitive=True,
        url=mail.link(settings, f"/dashboard/accept-invitation#token={token}"),
        inviter=subject.email,
        customer=customer,
        role=invitation.role,
        days=INVITATION_DAYS,
    )


def _out(invitation: Invitation, inviter: str | None) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        invited_by=inviter,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
    )


def pending_invitations(db: Session, subject: UserSubject) -> list[InvitationOut]:
    rows = InvitationRepository(db).pending(subject, utcnow())
    return [_out(invitation, inviter) for invitation, inviter in rows]


def revoke_invitation(db: Session, subject: UserSubject, invitation_id: uuid.UUID) -> None:
    """Its link stops working. Admins revoke members' invitations only, as they invite only
    members; an accepted invitation is a user now (remove the user instead)."""
    invitation = InvitationRepository(db).get(subject, invitation_id)
    if invitation.role == InvitedRole.ADMIN and subject.role != Role.OWNER:
        raise Forbidden("Only owners can revoke an admin's invitation")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been accepted")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        db.flush()


def _open_invitation(db: Session, token: str, now: datetime) -> tuple[Invitation, str]:
    """The invitation the link names, with its customer's name, if the link still works."""
    found = InvitationRepository(db).by_token(hash_token(token))
    if found is None:
        raise InvitationRefused("invalid")
    invitation, customer_name = found
    if reason := _closed_because(invitation, now):
        raise InvitationRefused(reason)
    return invitation, customer_name


def _closed_because(invitation: Invitation, now: datetime) -> str | None:
    if invitation.accepted_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    return None


def inspect_invitation(db: Session, token: str) -> InvitationPreview:
    invitation, customer_name = _open_invitation(db, token, utcnow())
    return InvitationPreview(
        customer_name=customer_name,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
    )


def accept_invitation(db: Session, token: str, password: str) -> User:
    """The invitee's account, in the invitation's customer with its role. The link proves the
    address, so it is verified. The invitation is taken in one conditional write: of two
    requests with the same link, one creates the user and the other is told it was used."""
    now = utcnow()
    invitation, _ = _open_invitation(db, token, now)
    password_hash = hash_password(password)  # before the first write (`auth.create_user`)
    act_for(db, invitation.customer_id)  # the request acts for the customer that invited
    if not InvitationRepository(db).accept(invitation.id, now):
        db.refresh(invitation)  # what the request that got there first left
        raise InvitationRefused(_closed_because(invitation, now) or "used")
    user = auth.create_user(
        db,
        customer_id=invitation.customer_id,
        email=invitation.email,
        password_hash=password_hash,
        role=Role(invitation.role),
    )
    user.email_verified_at = now
    db.flush()
    return user
