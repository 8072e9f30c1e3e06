from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, Timestamps, UUIDPrimaryKey


class Customer(UUIDPrimaryKey, Timestamps, Base):
    """A tenant: the company that signs up, owns chatbots and pays for their tokens."""

    __tablename__ = "customers"

    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    billing_info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan: Mapped[str] = mapped_column(String(40), default="free")
    # days chat history is kept (app/chat/retention.py); usage records are kept regardless
    retention_days: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
