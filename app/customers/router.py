from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.auth.deps import DB, StaffUser
from app.customers import service
from app.customers.schemas import UserCreate, UserOut

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserOut])
def list_users(principal: StaffUser, db: DB):
    return service.list_users(db, principal)


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, principal: StaffUser, db: DB):
    return service.create_user(
        db, principal, email=body.email, password=body.password, role=body.role
    )


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: uuid.UUID, principal: StaffUser, db: DB) -> None:
    service.delete_user(db, principal, user_id)
