"""Customers (tenants) and their people: sign-up creates a customer with its owner; owners and
admins manage the rest of the team."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.auth import service as auth
from app.auth.models import User
from app.auth.repository import UserRepository
from app.core.errors import Conflict, Forbidden
from app.core.security import hash_password
from app.core.subjects import UserSubject
from app.core.tenancy import act_for
from app.customers.models import Customer
from app.customers.repository import CustomerRepository
from app.customers.schemas import CustomerBrief, MeOut


def register(db: Session, *, email: str, password: str, customer_name: str) -> User:
    """A new customer and its owner. The password is hashed before the first write."""
    password_hash = hash_password(password)
    customer = Customer(
        id=uuid.uuid4(), name=customer_name.strip(), contact_email=auth.normalize_email(email)
    )
    act_for(db, customer.id)  # the request acts for the customer it creates
    db.add(customer)
    db.flush()
    return auth.create_user(
        db, customer_id=customer.id, email=email, password_hash=password_hash, role="owner"
    )


def me(db: Session, subject: UserSubject) -> MeOut:
    customer = CustomerRepository(db).of(subject)
    return MeOut(
        id=subject.user_id,
        email=subject.email,
        role=subject.role,
        customer=CustomerBrief.model_validate(customer),
    )


def list_users(db: Session, subject: UserSubject) -> Sequence[User]:
    return UserRepository(db).list(subject, order_by=User.created_at)


def create_user(db: Session, subject: UserSubject, *, email: str, password: str, role: str) -> User:
    if role == "admin" and subject.role != "owner":
        raise Forbidden("Only owners can create admins")
    return auth.create_user(
        db,
        customer_id=subject.customer_id,
        email=email,
        password_hash=hash_password(password),
        role=role,
    )


def change_role(db: Session, subject: UserSubject, user_id: uuid.UUID, role: str) -> User:
    """Owners make members admins and back; admins manage members only. Owners keep their role."""
    user = UserRepository(db).get(subject, user_id)
    if user.id == subject.user_id:
        raise Conflict("You cannot change your own role")
    if user.role == "owner":
        raise Forbidden("An owner's role cannot be changed")
    if subject.role != "owner" and "admin" in (user.role, role):
        raise Forbidden("Only owners can make or unmake admins")
    user.role = role
    db.flush()
    return user


def delete_user(db: Session, subject: UserSubject, user_id: uuid.UUID) -> None:
    user = UserRepository(db).get(subject, user_id)
    if user.id == subject.user_id:
        raise Conflict("You cannot delete yourself")
    if user.role == "owner":
        raise Forbidden("Owners cannot be deleted")
    if user.role == "admin" and subject.role != "owner":
        raise Forbidden("Only owners can delete admins")
    db.delete(user)
    db.flush()
