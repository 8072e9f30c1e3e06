from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.database import Base, Timestamps, UUIDPrimaryKey

ROLES = ("owner", "admin", "member")


class Customer(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    billing_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan: Mapped[str] = mapped_column(String(40), default="free")
    # days chat history is kept (scripts/purge_history.py); usage records are kept regardless
    retention_days: Mapped[int] = mapped_column(Integer, default=90, server_default="90")

    users: Mapped[list[User]] = relationship(back_populates="customer")


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="member")
    customer_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )

    customer: Mapped[Customer] = relationship(back_populates="users")
