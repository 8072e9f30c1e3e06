from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.enums import StoredEnum
from app.core.repository import TenantOwned
from app.core.subjects import Role


class User(UUIDPrimaryKey, Timestamps, Base):
    """Someone who signs in to the dashboard, as owner, admin or member of one customer."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(StoredEnum(Role, 16), default=Role.MEMBER)
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # when the address was proven the user's (a verification link, or an accepted invitation)
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # raised to end every session at once (a password reset): an access token carries the
    # version it was issued at and is refused once the user's has moved on
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AccountToken(UUIDPrimaryKey, TenantOwned, Base):
    """A single-use secret sent by email to one user: a password reset or an address
    verification. Only its SHA-256 is kept; the secret itself is only in the email."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('password_reset', 'email_verification')", name="purpose"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
