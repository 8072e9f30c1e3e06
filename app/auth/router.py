from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.schemas import LoginIn, TokenOut
from app.core.database import DB

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DB, request: Request
) -> TokenOut:
    """OAuth2 password flow (username = email), used by Swagger's Authorize button."""
    user = service.authenticate(db, email=form.username, password=form.password)
    return service.issue_token(user, request.app.state.settings)


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, db: DB, request: Request) -> TokenOut:
    user = service.authenticate(db, email=body.email, password=body.password)
    return service.issue_token(user, request.app.state.settings)
