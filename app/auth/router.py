from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.deps import CurrentUser
from app.auth.schemas import (
    AcceptedOut,
    EmailVerifiedOut,
    ForgotPasswordIn,
    LoginIn,
    ResetPasswordIn,
    TokenOut,
    VerifyEmailIn,
)
from app.core.database import DB
from app.core.deps import AppSettings, Limiter
from app.core.openapi import errors
from app.core.ratelimit import client_address


def login_throttle(
    request: Request, settings: AppSettings, limiter: Limiter
) -> service.LoginThrottle:
    return service.LoginThrottle(limiter, settings, client_address(request))


Throttle = Annotated[service.LoginThrottle, Depends(login_throttle)]

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, responses=errors(401))
def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: DB,
    settings: AppSettings,
    throttle: Throttle,
) -> TokenOut:
    """OAuth2 password flow (username = email), used by Swagger's Authorize button."""
    user = service.authenticate(db, email=form.username, password=form.password, throttle=throttle)
    return service.issue_token(user, settings)


@router.post("/login", response_model=TokenOut, responses=errors(401))
def login(body: LoginIn, db: DB, settings: AppSettings, throttle: Throttle) -> TokenOut:
    """Sign in; too many failed attempts for one account or from one address answer 429."""
    user = service.authenticate(db, email=body.email, password=body.password, throttle=throttle)
    return service.issue_token(user, settings)


@router.post("/password/forgot", response_model=AcceptedOut, status_code=status.HTTP_202_ACCEPTED)
def forgot_password(
    body: ForgotPasswordIn, db: DB, request: Request, settings: AppSettings, limiter: Limiter
) -> AcceptedOut:
    """Emails a link to choose a new password, valid 30 minutes, if the address has an account.
    The answer is the same whether it has one or not; too many requests for one address or
    from one client address answer 429, known address or not."""
    service.forgot_password(db, settings, limiter, client_address(request), body.email)
    return AcceptedOut(message=service.RESET_ASKED)


@router.post("/password/reset", response_model=TokenOut)
def reset_password(body: ResetPasswordIn, db: DB, settings: AppSettings) -> TokenOut:
    """Sets a new password with the token from a reset link (once), signs out every session of
    the account, and signs in here. 400 when the link is invalid, used or expired."""
    user = service.reset_password(db, body.token, body.password)
    return service.issue_token(user, settings)


@router.post("/verify-email", response_model=EmailVerifiedOut)
def verify_email(body: VerifyEmailIn, db: DB) -> EmailVerifiedOut:
    """Verifies the address with the token from a verification link (once); 400 when the link
    is invalid, used or expired."""
    return EmailVerifiedOut.model_validate(service.verify_email(db, body.token))


@router.post(
    "/verify-email/resend",
    response_model=AcceptedOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(409),
)
def resend_verification(
    user: CurrentUser, db: DB, settings: AppSettings, limiter: Limiter
) -> AcceptedOut:
    """Emails the signed-in user a new verification link; 409 when the address is verified
    already, 429 past a few an hour."""
    service.resend_verification(db, settings, limiter, user)
    return AcceptedOut(message=f"We have sent a new link to {user.email}")
