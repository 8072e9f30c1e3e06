"""States and roles as `StrEnum`s in the models, so the schemas and OpenAPI list their values.

The columns stay what the migrations made them, a VARCHAR holding the value: `StoredEnum` writes
a member's value (or a string naming one) and reads the member back.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import String, TypeDecorator

E = TypeVar("E", bound=StrEnum)


class StoredEnum(TypeDecorator[E]):
    """A `StrEnum` kept as its value in a `VARCHAR(length)`; a value it does not name is refused
    on write (`ValueError`) instead of being stored."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum(value)
