from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.core.schemas import RequestBody


class RegisterIn(RequestBody):
    email: EmailStr
    password: str = Field(min_length=8, max_length=256)
    customer_name: str = Field(min_length=1, max_length=200)


class CustomerBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    plan: str


class MeOut(BaseModel):
    id: uuid.UUID
    email: str
    role: str
    customer: CustomerBrief


class UserCreate(RequestBody):
    email: EmailStr
    password: str = Field(min_length=8, max_length=256)
    role: Literal["admin", "member"] = "member"


class RoleChange(RequestBody):
    role: Literal["admin", "member"]


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    role: str
    created_at: datetime
