from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from app.auth import service as auth
from app.auth.deps import CurrentUser, OwnerUser, StaffUser
from app.auth.schemas import TokenOut
from app.core.database import DB
from app.core.ratelimit import client_address
from app.customers import service
from app.customers.schemas import MeOut, RegisterIn, RoleChange, UserCreate, UserOut
from app.mail import service as mail
from app.mail.schemas import EmailOut

signup_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/api/users", tags=["users"])
emails_router = APIRouter(prefix="/api/emails", tags=["users"])


@signup_router.post("/register", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def register(body: RegisterIn, db: DB, request: Request) -> TokenOut:
    """Create a customer and its owner user; returns a token for that owner."""
    state = request.app.state
    # counted before anything is hashed or written: a flood of sign-ups costs nobody else
    state.limiter.hit(
        state.settings.signups_per_ip, "signup-ip", client_address(request), what="address"
    )
    user = service.register(
        db, email=body.email, password=body.password, customer_name=body.customer_name
    )
    return auth.issue_token(user, request.app.state.settings)


@signup_router.get("/me", response_model=MeOut)
def me(user: CurrentUser, db: DB) -> MeOut:
    return service.me(db, user)


@router.get("", response_model=list[UserOut])
def list_users(user: StaffUser, db: DB):
    return service.list_users(db, user)


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, user: StaffUser, db: DB):
    return service.create_user(db, user, email=body.email, password=body.password, role=body.role)


@router.patch("/{user_id}", response_model=UserOut)
def change_role(user_id: uuid.UUID, body: RoleChange, user: StaffUser, db: DB):
    """Make a member an admin or an admin a member (owners); admins manage members only."""
    return service.change_role(db, user, user_id, body.role)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: uuid.UUID, user: StaffUser, db: DB) -> None:
    service.delete_user(db, user, user_id)


@emails_router.get("", response_model=list[EmailOut])
def list_emails(user: OwnerUser, db: DB):
    """The customer's last 100 emails, newest first, with their delivery status: pending ones
    are being tried again (`attempts`, `last_error`), failed ones were given up. Owners only."""
    return mail.recent(db, user)
