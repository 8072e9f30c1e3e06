from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.mail.models import EmailStatus


class EmailOut(BaseModel):
    """What was sent, to whom and how it went; never the body (it may hold a secret link)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: Literal["password_reset", "email_verification", "invitation", "allowance_alert"]
    to_address: str
    subject: str
    status: EmailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime
