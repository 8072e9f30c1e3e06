"""Passwords in, tokens out: sign-in, the user accounts that sign in, and the emailed links
that reset a password or verify an address."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import AccountToken, User
from app.auth.repository import AccountTokenRepository, UserRepository
from app.auth.schemas import TokenOut
from app.core.config import Settings
from app.core.database import utcnow
from app.core.errors import BadRequest, Conflict, Unauthorized
from app.core.ratelimit import RateLimiter
from app.core.security import (
    create_access_token,
    generate_link_token,
    hash_password,
    hash_token,
    verify_password,
)
from app.core.subjects import OperatorSubject, Role, UserSubject
from app.core.tenancy import act_for
from app.mail import service as mail
from app.mail.compose import compose

# verifying against a real hash when the email is unknown keeps both paths equally slow
_DUMMY_HASH = hash_password("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    db: Session, *, customer_id: uuid.UUID, email: str, password_hash: str, role: Role
) -> User:
    """A user with a password hashed beforehand (`hash_password`), outside the transaction's
    writes: on SQLite a write holds the database's one write lock until commit."""
    email = normalize_email(email)
    if UserRepository(db).email_taken(email):
        raise Conflict("A user with this email already exists")
    user = User(email=email, password_hash=password_hash, role=role, customer_id=customer_id)
    db.add(user)
    try:
        db.flush()
    except IntegrityError:  # the same address signed up or joined since the check above
        raise Conflict("A user with this email already exists") from None
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
        version=user.session_version,
    )
    return TokenOut(access_token=token, expires_in=settings.access_token_expire_minutes * 60)


# --- emailed links: password resets and address verification ---------------------------------

RESET = "password_reset"
VERIFICATION = "email_verification"
LIFETIMES = {RESET: timedelta(minutes=30), VERIFICATION: timedelta(hours=48)}
# a link's email (of the same kind) and the dashboard page it opens
SUBJECTS = {RESET: "Reset your password", VERIFICATION: "Confirm your email address"}
PAGES = {RESET: "reset-password", VERIFICATION: "verify-email"}
RESET_ASKED = "If an account exists for this address, we have sent a link to reset its password"
REFUSED = {
    RESET: "This password reset link is not valid: it has been used, has expired or was not "
    "copied whole. Ask for a new one from the sign-in page.",
    VERIFICATION: "This verification link is not valid: it has been used, has expired or was "
    "not copied whole. Sign in and ask for a new one.",
}


def _subject(user: User) -> UserSubject:
    return UserSubject(user.id, user.customer_id, user.role, user.email)


def _link_url(settings: Settings, purpose: str, token: str) -> str:
    """The secret travels in the fragment, which browsers never send to a server."""
    return mail.link(settings, f"/dashboard/{PAGES[purpose]}#token={token}")


def _send_link(db: Session, settings: Settings, user: User, purpose: str, **values: int) -> None:
    """Queues the user's email with a new single-use link of this purpose; only the SHA-256 of
    its secret is stored."""
    token = generate_link_token()
    db.add(
        AccountToken(
            id=uuid.uuid4(),
            customer_id=user.customer_id,
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(token),
            expires_at=utcnow() + LIFETIMES[purpose],
        )
    )
    mail.queue(
        db,
        settings,
        customer_id=user.customer_id,
        to=user.email,
        kind=purpose,
        subject=SUBJECTS[purpose],
        sensitive=True,
        email=user.email,
        url=_link_url(settings, purpose, token),
        **values,
    )
    db.flush()


def forgot_password(
    db: Session, settings: Settings, limiter: RateLimiter, address: str, email: str
) -> None:
    """Emails a reset link if the address has an account; the caller is told the same either
    way. Counted per client address and per address asked about before the lookup, so the
    limits answer alike for known and unknown addresses, and an unknown one costs the same
    work (a secret, its hash, the email composed) without the rows."""
    email = normalize_email(email)
    limiter.hit(settings.password_resets_per_ip, "reset-ip", address, what="client address")
    limiter.hit(settings.password_resets_per_address, "reset", email, what="email address")
    user = UserRepository(db).by_email(email)
    minutes = int(LIFETIMES[RESET].total_seconds() // 60)
    if user is None:
        token = generate_link_token()
        hash_token(token)
        url = _link_url(settings, RESET, token)
        compose(
            RESET, SUBJECTS[RESET], settings.project_name, email=email, url=url, minutes=minutes
        )
        return
    act_for(db, user.customer_id)  # the request acts for the account's customer from here
    _send_link(db, settings, user, RESET, minutes=minutes)


def _redeem(db: Session, token: str, purpose: str) -> tuple[User, AccountToken]:
    """The user a usable link names, and the link; 400 for any other (unknown, used, expired:
    all alike)."""
    link = AccountTokenRepository(db).usable(hash_token(token), purpose, utcnow())
    if link is None:
        raise BadRequest(REFUSED[purpose])
    act_for(db, link.customer_id)  # the link speaks for its user, of this customer only
    user = UserRepository(db).get(OperatorSubject(link.customer_id), link.user_id)
    return user, link


def _use(db: Session, user: User, link: AccountToken) -> None:
    """Marks the link used; 400 if another request used it first."""
    if not AccountTokenRepository(db).use(_subject(user), link.id, utcnow()):
        raise BadRequest(REFUSED[link.purpose])


def reset_password(db: Session, token: str, password: str) -> User:
    """Sets the password a reset link's holder chose, and signs every session of the user out:
    the link and every other reset link of the user stop working, and access tokens issued
    before stop too (`User.session_version`). The link proves the address, so it counts as
    verified. The password is hashed between checking the link and using it: a wrong link
    costs no hash, and the hash is done before the transaction's first write."""
    user, link = _redeem(db, token, RESET)
    password_hash = hash_password(password)
    _use(db, user, link)
    subject = _subject(user)
    AccountTokenRepository(db).retire(subject, RESET, utcnow())
    UserRepository(db).end_sessions(subject)
    user.password_hash = password_hash
    user.email_verified_at = user.email_verified_at or utcnow()
    db.flush()
    return user


def send_verification(db: Session, settings: Settings, user: User) -> None:
    """Queues an email with a link that verifies the user's address."""
    hours = int(LIFETIMES[VERIFICATION].total_seconds() // 3600)
    _send_link(db, settings, user, VERIFICATION, hours=hours)


def verify_email(db: Session, token: str) -> User:
    """Marks the address of the link's user verified; the link works once."""
    user, link = _redeem(db, token, VERIFICATION)
    _use(db, user, link)
    user.email_verified_at = user.email_verified_at or utcnow()
    db.flush()
    return user


def resend_verification(
    db: Session, settings: Settings, limiter: RateLimiter, subject: UserSubject
) -> None:
    """Another verification link for a signed-in user whose address is not verified (409 once
    it is); earlier links keep working until they expire, so an email that arrives late still
    does."""
    user = UserRepository(db).get(subject, subject.user_id)
    if user.email_verified_at is not None:
        raise Conflict("Your email address is already verified")
    limiter.hit(settings.verification_emails_per_user, "verify", str(user.id), what="user")
    send_verification(db, settings, user)
