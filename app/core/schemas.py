"""What every request body shares."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator


class RequestBody(BaseModel):
    """A JSON request body. Text holding a NUL character is refused with a 422 that names the
    field, on either database: PostgreSQL cannot store it and SQLite would keep it silently."""

    @field_validator("*", mode="after")
    @classmethod
    def _without_nul(cls, value: Any) -> Any:
        if _holds_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    return False  # a nested RequestBody checked its own fields
