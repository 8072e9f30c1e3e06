from __future__ import annotations

from pydantic import Field

from app.core.schemas import RequestBody


class AccountDeletion(RequestBody):
    """What deleting an account asks for: the owner's password again, and the account's name
    typed out, so neither a token left in a browser nor a slip of the hand can do it."""

    password: str = Field(min_length=1, max_length=200)
    confirm: str = Field(
        max_length=200, description="The account's (customer's) name, exactly as it is shown"
    )
