from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select

from app.auth.models import User
from app.core.repository import TenantRepository, system


class UserRepository(TenantRepository[User]):
    model = User
    label = "User"

    # Sign-in happens before there is a subject: these two look across customers.

    @system("sign-in has only the email")
    def by_email(self, email: str) -> User | None:
        return self.db.scalars(select(User).where(User.email == email)).one_or_none()

    @system("sign-up checks the email across customers")
    def email_taken(self, email: str) -> bool:
        return bool(self.db.scalar(select(exists().where(User.email == email))))

    @system("a token is checked before there is a subject")
    def token_holder(self, user_id: uuid.UUID, customer_id: uuid.UUID) -> User | None:
        """The user a token names, if it still belongs to the customer the token names."""
        user: Any = self.db.get(User, user_id)
        return user if user is not None and user.customer_id == customer_id else None
