from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import Conflict, Unauthorized
from app.core.security import create_access_token, hash_password, verify_password
from app.customers.models import Customer, User

# verifying against a real hash when the email is unknown keeps both paths equally slow
_DUMMY_HASH = hash_password("not-a-real-password")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def ensure_email_free(db: Session, email: str) -> None:
    if db.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise Conflict("A user with this email already exists")


def register(db: Session, *, email: str, password: str, customer_name: str) -> User:
    email = normalize_email(email)
    ensure_email_free(db, email)
    customer = Customer(name=customer_name.strip(), contact_email=email)
    user = User(email=email, password_hash=hash_password(password), role="owner", customer=customer)
    db.add_all([customer, user])
    db.flush()
    return user


def authenticate(db: Session, *, email: str, password: str) -> User:
    user = db.scalars(select(User).where(User.email == normalize_email(email))).one_or_none()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        raise Unauthorized("Incorrect email or password")
    if not verify_password(password, user.password_hash):
        raise Unauthorized("Incorrect email or password")
    return user


def issue_token(user: User, settings: Settings) -> dict[str, object]:
    token = create_access_token(
        user_id=user.id,
        customer_id=user.customer_id,
        secret=settings.secret_key,
        minutes=settings.access_token_expire_minutes,
    )
    return {"access_token": token, "expires_in": settings.access_token_expire_minutes * 60}
