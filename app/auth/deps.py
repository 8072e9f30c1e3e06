"""Who is signed in: the JWT's user as a `UserSubject`, and role requirements, declared in route
signatures (`CurrentUser`, `StaffUser`, `OwnerUser`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from app.auth.repository import UserRepository
from app.core.database import DB
from app.core.deps import AppSettings, Slots
from app.core.errors import Forbidden, Unauthorized
from app.core.openapi import declares
from app.core.security import decode_access_token
from app.core.subjects import STAFF_ROLES, Role, UserSubject
from app.core.tenancy import act_for

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
# how long a signed-in customer's request past its concurrency bound waits for a slot
REFUSAL_DELAY_SECONDS = 1.0


@declares(401)
def get_current_user(
    settings: AppSettings, db: DB, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> UserSubject:
    if not token:
        raise Unauthorized()
    claims = decode_access_token(token, secret=settings.secret_key)
    act_for(db, claims.customer_id)  # signed by us: the request acts for this customer only
    user = UserRepository(db).token_holder(claims.user_id, claims.customer_id, claims.version)
    if user is None:
        raise Unauthorized("Invalid or expired token")
    return UserSubject(user.id, user.customer_id, user.role, user.email)


def require_role(*roles: Role) -> Callable[[UserSubject], UserSubject]:
    @declares(403)
    def check(user: Annotated[UserSubject, Depends(get_current_user)]) -> UserSubject:
        if user.role not in roles:
            raise Forbidden(f"This action requires one of the roles: {', '.join(roles)}")
        return user

    return check


@declares(401)
async def expensive(
    settings: AppSettings, slots: Slots, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> AsyncIterator[None]:
    """A signed-in customer's expensive request (a question, a retrieval, an upload) holds one of
    its customer's slots (`app/core/concurrency.py`) from before it takes a worker thread or a
    database connection until its response is sent. Declared first on the route, it runs in the
    event loop: past the bound, the 429 costs a signature check and nothing that customers share
    (refused in the route, forty loops of one customer kept the worker threads busy refusing,
    and another customer's questions waited for a thread).

    With every slot taken, the request waits up to `REFUSAL_DELAY_SECONDS` in the event loop
    (no thread, no connection) for one to free, then gets its 429: a client that retries at
    once, as a flood does, then asks once a second per connection instead of hundreds of times,
    and the refusals stop costing everyone else the event loop's time."""
    if not token:
        raise Unauthorized()
    claims = decode_access_token(token, secret=settings.secret_key)
    async with slots.hold_waiting(claims.customer_id, REFUSAL_DELAY_SECONDS):
        yield


# route dependency: `@router.post(..., dependencies=[Expensive])`
Expensive = Depends(expensive)

CurrentUser = Annotated[UserSubject, Depends(get_current_user)]
StaffUser = Annotated[UserSubject, Depends(require_role(*STAFF_ROLES))]
OwnerUser = Annotated[UserSubject, Depends(require_role(Role.OWNER))]
