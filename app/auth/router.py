from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.schemas import LoginIn, TokenOut
from app.core.database import DB
from app.core.ratelimit import client_address


def login_throttle(request: Request) -> service.LoginThrottle:
    state = request.app.state
    return service.LoginThrottle(state.limiter, state.settings, client_address(request))


Throttle = Annotated[service.LoginThrottle, Depends(login_throttle)]

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut)
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DB,
    request: Request,
    throttle: Throttle,
) -> TokenOut:
    """OAuth2 password flow (username = email), used by Swagger's Authorize button."""
    user = service.authenticate(db, email=form.username, password=form.password, throttle=throttle)
    return service.issue_token(user, request.app.state.settings)


@router.post("/login", response_model=TokenOut)
def login(body: LoginIn, db: DB, request: Request, throttle: Throttle) -> TokenOut:
    """Sign in; too many failed attempts for one account or from one address answer 429."""
    user = service.authenticate(db, email=body.email, password=body.password, throttle=throttle)
    return service.issue_token(user, request.app.state.settings)
