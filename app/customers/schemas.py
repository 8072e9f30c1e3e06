from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.auth.schemas import Password as NewPassword
from app.core.schemas import RequestBody
from app.core.subjects import Role
from app.customers.models import InvitedRole


class RegisterIn(RequestBody):
    email: EmailStr
    password: NewPassword
    customer_name: str = Field(min_length=1, max_length=200)


class CustomerBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    plan: str
    # its owner has verified their address, or the install does not ask for it: its widget is
    # published and its secret keys answer beyond the demo limit
    verified: bool


class MeOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    email_verified: bool
    customer: CustomerBrief


class UserCreate(RequestBody):
    email: EmailStr
    password: NewPassword
    role: InvitedRole = InvitedRole.MEMBER


class RoleChange(RequestBody):
    role: InvitedRole


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime


class InvitationIn(RequestBody):
    email: EmailStr
    role: InvitedRole = InvitedRole.MEMBER


class InvitationOut(BaseModel):
    """A sent invitation as its customer's staff see it; its link is only in the email."""

    id: uuid.UUID
    email: str
    role: InvitedRole
    # the inviter's email; None once they are no longer in the team
    invited_by: str | None
    created_at: datetime
    expires_at: datetime


class InvitationLink(RequestBody):
    """The secret of an emailed invitation link, sent in the body: never in a URL, where logs
    and proxies would keep it."""

    token: str = Field(min_length=1, max_length=128)


class InvitationAccept(InvitationLink):
    password: NewPassword


class InvitationPreview(BaseModel):
    """What the accept screen shows the person who opened the link."""

    customer_name: str
    email: str
    role: InvitedRole
    expires_at: datetime
