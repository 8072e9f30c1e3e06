"""The one place where tenant rows are scoped to a customer.

Every table a customer owns carries `customer_id` (the `TenantOwned` mixin), so one filter fits all.
Objects of another customer are reported as missing (404) so that their existence never leaks.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar, cast

from sqlalchemy import ForeignKey, Select, Uuid, select
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from app.core.errors import NotFound


class TenantOwned:
    @declared_attr
    def customer_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(
            Uuid, ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=False
        )


# any mapped class with `id` and `customer_id` columns (TenantOwned, or users)
T = TypeVar("T")


def tenant_select(model: type[T], customer_id: uuid.UUID) -> Select[T]:
    columns: Any = model
    return select(model).where(columns.customer_id == customer_id)


def get_owned(session: Session, model: type[T], object_id: uuid.UUID, customer_id: uuid.UUID) -> T:
    obj = session.scalars(
        tenant_select(model, customer_id).where(cast(Any, model).id == object_id)
    ).one_or_none()
    if obj is None:
        raise NotFound(f"{_label(model)} not found")
    return obj


def _label(model: type) -> str:
    return getattr(model, "__label__", model.__name__)
