"""Passwords in, tokens out: sign-in, and the user accounts that sign in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.repository import UserRepository
from app.auth.schemas import TokenOut
from app.core.config import Settings
from app.core.errors import Conflict, Unauthorized
from app.core.ratelimit import RateLimiter
from app.core.security import create_access_token, hash_password, verify_password
from app.core.tenancy import act_for

# verifying against a real hash when the email is unknown keeps both paths equally slow
_DUMMY_HASH = hash_password("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    db: Session, *, customer_id: uuid.UUID, email: str, password_hash: str, role: str
) -> User:
    """A user with a password hashed beforehand (`hash_password`), outside the transaction's
    writes: on SQLite a write holds the database's one write lock until commit."""
    email = normalize_email(email)
    if UserRepository(db).email_taken(email):
        raise Conflict("A user with this email already exists")
    user = User(email=email, password_hash=password_hash, role=role, customer_id=customer_id)
    db.add(user)
    db.flush()
    return user


@dataclass(frozen=True)
class LoginThrottle:
    """Sign-in attempts counted per account and per client address with the `limits` library
    (in memory, or in Redis shared by every API process). Each attempt is counted before its
    password is hashed, in one atomic step that refuses past the limit (429 with Retry-After),
    so attempts made at once cannot all pass a check before any of them is counted: forty
    concurrent wrong passwords once had forty hashed against a limit of ten. A success clears
    the account's count (its owner is back); the address's count stays, so one valid account
    cannot reset it while guessing others."""

    limiter: RateLimiter
    settings: Settings
    address: str

    def attempt(self, email: str) -> None:
        limits = self.settings
        self.limiter.hit(limits.login_failures_per_ip, "login-ip", self.address, what="address")
        self.limiter.hit(limits.login_failures_per_account, "login", email, what="account")

    def succeeded(self, email: str) -> None:
        self.limiter.clear(self.settings.login_failures_per_account, "login", email)


def authenticate(db: Session, *, email: str, password: str, throttle: LoginThrottle) -> User:
    email = normalize_email(email)
    throttle.attempt(email)
    user = UserRepository(db).by_email(email)
    if user is None:
        verify_password(password, _DUMMY_HASH)
    if user is None or not verify_password(password, user.password_hash):
        raise Unauthorized("Incorrect email or password")
    throttle.succeeded(email)
    act_for(db, user.customer_id)  # signed in: the request acts for the user's customer
    return user


def issue_token(user: User, settings: Settings) -> TokenOut:
    token = create_access_token(
        user_id=user.id,
        customer_id=user.customer_id,
        secret=settings.secret_key,
        minutes=settings.access_token_expire_minutes,
    )
    return TokenOut(access_token=token, expires_in=settings.access_token_expire_minutes * 60)
