"""Who is calling: the JWT principal and role requirements, declared in route signatures."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core.database import get_db
from app.core.errors import Forbidden, Unauthorized
from app.core.security import decode_access_token
from app.customers.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    customer_id: uuid.UUID
    role: str
    email: str

    @property
    def is_staff(self) -> bool:
        return self.role in ("owner", "admin")


# scope="function": commit before the response is sent, so a 2xx means the data is stored
DB = Annotated[Session, Depends(get_db, scope="function")]


def get_principal(
    request: Request, db: DB, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized()
    claims = decode_access_token(token, secret=request.app.state.settings.secret_key)
    user = db.get(User, claims.user_id)
    if user is None or user.customer_id != claims.customer_id:
        raise Unauthorized("Invalid or expired token")
    return Principal(user.id, user.customer_id, user.role, user.email)


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"This action requires one of the roles: {', '.join(roles)}")
        return principal

    return check


CurrentUser = Annotated[Principal, Depends(get_principal)]
StaffUser = Annotated[Principal, Depends(require_role("owner", "admin"))]
OwnerUser = Annotated[Principal, Depends(require_role("owner"))]
