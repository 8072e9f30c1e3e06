from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.deps import DB, CurrentUser
from app.auth.schemas import CustomerBrief, LoginIn, MeOut, RegisterIn, TokenOut
from app.customers.models import Customer, User

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/register", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def register(body: RegisterIn, db: DB, request: Request) -> dict[str, object]:
    """Create a customer and its owner user; returns a token for that owner."""
    user = service.register(
        db, email=body.email, password=body.password, customer_name=body.customer_name
    )
    return service.issue_token(user, request.app.state.settings)


@router.post("/token", response_model=TokenOut)
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DB, request: Request):
    """OAuth2 password flow (username = email), used by Swagger's Authorize button."""
    user = service.authenticate(db, email=form.username, password=form.password)
    return service.issue_token(user, request.app.state.settings)


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, db: DB, request: Request) -> dict[str, object]:
    user = service.authenticate(db, email=body.email, password=body.password)
    return service.issue_token(user, request.app.state.settings)


@router.get("/me", response_model=MeOut)
def me(principal: CurrentUser, db: DB) -> MeOut:
    user = db.get(User, principal.user_id)
    customer = db.get(Customer, principal.customer_id)
    assert user is not None and customer is not None
    return MeOut(
        id=user.id,
        email=user.email,
        role=user.role,
        customer=CustomerBrief(id=customer.id, name=customer.name, plan=customer.plan),
    )
