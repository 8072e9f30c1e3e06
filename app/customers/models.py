from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from app.core.enums import StoredEnum
from app.core.repository import TenantOwned


class Customer(UUIDPrimaryKey, Timestamps, Base):
    """A tenant: the company that signs up, owns chatbots and pays for their tokens."""

    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    billing_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan: Mapped[str] = mapped_column(String(40), default="free")
    # days chat history is kept (app/chat/retention.py); usage records are kept regardless
    retention_days: Mapped[int] = mapped_column(Integer, default=90, server_default="90")


class InvitedRole(StrEnum):
    """The roles an invitation offers (`Role`'s values but the owner's: a customer has one)."""

    ADMIN = "admin"
    MEMBER = "member"


class Invitation(UUIDPrimaryKey, TenantOwned, Base):
    """An emailed invitation to join a customer with a role: its link (the secret, of which only
    the SHA-256 is kept) lets the person choose a password, once, within its validity."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint("role IN ('admin', 'member')", name="role"),)

    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[InvitedRole] = mapped_column(StoredEnum(InvitedRole, 16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
