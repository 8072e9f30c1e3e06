"""Who is asking. Every read of a customer's rows is scoped to one of these subjects.

Dependencies resolve the caller once per request (`app.auth.deps` for signed-in users,
`app.chatbots.deps` for API keys); repositories take the subject, never a bare customer id, so a
route cannot read another customer's rows by forgetting a filter.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """A user's role in their customer: one owner (who signed up), admins and members."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


STAFF_ROLES = (Role.OWNER, Role.ADMIN)


@dataclass(frozen=True)
class UserSubject:
    """A signed-in user of a customer (dashboard API)."""

    user_id: uuid.UUID
    customer_id: uuid.UUID
    role: Role
    email: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True)
class KeySubject:
    """A chatbot's API key: a secret key (customers' servers) or a widget key (browsers).

    A key sees its own chatbot's rows only, not the rest of its customer's.
    """

    key_id: uuid.UUID
    kind: str
    customer_id: uuid.UUID
    chatbot_id: uuid.UUID
    # when the key's use was last recorded, as it was looked up (its record is throttled)
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class OperatorSubject:
    """Operator scripts and background jobs acting for one customer (invoices, retention)."""

    customer_id: uuid.UUID


AuthSubject = UserSubject | KeySubject | OperatorSubject
