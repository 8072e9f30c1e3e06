"""What every request body shares, and the types that hold request values to what the OpenAPI
document says of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, field_validator


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


def _json_number(value: Any) -> Any:
    """Lax pydantic takes true, false and "12" for numbers; the OpenAPI document's `integer` and
    `number` do not, and neither do we."""
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


def _iso_8601(value: Any) -> Any:
    """Lax pydantic reads a number as seconds since 1970; the document says an ISO 8601 date."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("must be an ISO 8601 date, like 2026-11-30 or 2026-11-30T12:00:00Z")
    return value


# last in a field's Annotated, after its Field: before it, the bounds leave the document
JsonNumber = BeforeValidator(_json_number)
IsoDate = Annotated[date, BeforeValidator(_iso_8601)]
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_8601)]
