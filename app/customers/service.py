from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.auth.deps import Principal
from app.auth.service import ensure_email_free, normalize_email
from app.core.errors import Conflict, Forbidden
from app.core.security import hash_password
from app.core.tenancy import get_owned, tenant_select
from app.customers.models import User


def list_users(db: Session, principal: Principal) -> Sequence[User]:
    return db.scalars(tenant_select(User, principal.customer_id).order_by(User.created_at)).all()


def create_user(db: Session, principal: Principal, *, email: str, password: str, role: str) -> User:
    if role == "admin" and principal.role != "owner":
        raise Forbidden("Only owners can create admins")
    email = normalize_email(email)
    ensure_email_free(db, email)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        customer_id=principal.customer_id,
    )
    db.add(user)
    db.flush()
    return user


def delete_user(db: Session, principal: Principal, user_id: uuid.UUID) -> None:
    user = get_owned(db, User, user_id, principal.customer_id)
    if user.id == principal.user_id:
        raise Conflict("You cannot delete yourself")
    if user.role == "owner":
        raise Forbidden("Owners cannot be deleted")
    if user.role == "admin" and principal.role != "owner":
        raise Forbidden("Only owners can delete admins")
    db.delete(user)
    db.flush()
