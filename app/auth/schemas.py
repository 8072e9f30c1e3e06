from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field

from app.core.schemas import RequestBody


class LoginIn(RequestBody):
    email: EmailStr
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
