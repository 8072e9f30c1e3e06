from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.core.schemas import RequestBody

# what a new password must be, wherever one is chosen (sign-up, an invitation, a reset)
Password = Annotated[str, Field(min_length=8, max_length=256)]
# an emailed link's secret, as the dashboard reads it from the link's fragment
LinkToken = Annotated[str, Field(min_length=1, max_length=256)]


class LoginIn(RequestBody):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ForgotPasswordIn(RequestBody):
    email: EmailStr


class ResetPasswordIn(RequestBody):
    token: LinkToken
    password: Password


class VerifyEmailIn(RequestBody):
    token: LinkToken


class AcceptedOut(BaseModel):
    """What was done, or will be, said for people."""

    message: str


class EmailVerifiedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str
    email_verified_at: datetime
