from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update

from app.auth.models import AccountToken, User
from app.core.repository import TenantRepository, system
from app.core.subjects import AuthSubject, Role, UserSubject


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
    def token_holder(self, user_id: uuid.UUID, customer_id: uuid.UUID, version: int) -> User | None:
        """The user a token names, if it still belongs to the customer the token names and was
        issued since the user's sessions were last ended (a password reset)."""
        user: Any = self.db.get(User, user_id)
        if user is None or user.customer_id != customer_id:
            return None
        return user if user.session_version == version else None

    def owner_verified(self, subject: AuthSubject) -> bool:
        """Whether an owner of the subject's customer has verified their address: the customer
        counts as verified from then on, whichever of its keys or users asks."""
        return bool(
            self.db.scalar(
                select(
                    exists().where(
                        User.customer_id == subject.customer_id,
                        User.role == Role.OWNER,
                        User.email_verified_at.is_not(None),
                    )
                )
            )
        )

    def end_sessions(self, subject: UserSubject) -> None:
        """Every access token of the user issued so far stops working (`token_holder`)."""
        self.db.execute(
            update(User)
            .where(*self.scope(subject), User.id == subject.user_id)
            .values(session_version=User.session_version + 1)
            .execution_options(synchronize_session="fetch")
        )


class AccountTokenRepository(TenantRepository[AccountToken]):
    model = AccountToken
    label = "Link"

    @system("an emailed link is checked before anyone is signed in")
    def usable(self, token_hash: str, purpose: str, now: datetime) -> AccountToken | None:
        """The unused, unexpired token of this purpose with this hash, if there is one."""
        return self.db.scalars(
            select(AccountToken).where(
                AccountToken.token_hash == token_hash,
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > now,
            )
        ).one_or_none()

    def use(self, subject: UserSubject, token_id: uuid.UUID, now: datetime) -> bool:
        """Marks the subject's token used, if it still is usable: one atomic UPDATE whose row
        count decides, so of two requests using one link at once exactly one gets True."""
        result: Any = self.db.execute(
            update(AccountToken)
            .where(
                *self.scope(subject),
                AccountToken.id == token_id,
                AccountToken.user_id == subject.user_id,
                AccountToken.used_at.is_(None),
                AccountToken.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)

    def retire(self, subject: UserSubject, purpose: str, now: datetime) -> None:
        """Every unused token of this purpose the subject has is used up (older reset links,
        once one of them has reset the password)."""
        self.db.execute(
            update(AccountToken)
            .where(
                *self.scope(subject),
                AccountToken.user_id == subject.user_id,
                AccountToken.purpose == purpose,
                AccountToken.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
