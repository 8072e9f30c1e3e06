"""Reads and writes of tenant rows, scoped to the subject that asks (Polar's
`get_readable_statement`).

Every table a customer owns carries `customer_id` (`TenantOwned`). A domain's repository
subclasses `TenantRepository` and is the only place that writes statements on its tables:
`tests/test_architecture.py` fails on any statement naming a tenant table elsewhere, whatever its
spelling. Each repository method takes the subject, except the few that cannot have one (a job
that has only a document's id, a sign-in that has only an email): those are marked `@system`
with their reason and listed in the architecture test, which fails on any other. Objects outside
the subject's scope are reported missing (404), so their existence never leaks.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import ColumnElement, ForeignKey, Select, Uuid, false, select, true
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column
from sqlalchemy.orm.interfaces import ORMOption

from app.core.errors import NotFound
from app.core.subjects import AuthSubject, KeySubject
from app.core.tenancy import system_access


class TenantOwned:
    @declared_attr
    def customer_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(
            Uuid, ForeignKey("customers.id", ondelete="CASCADE"), index=True, nullable=False
        )


M = TypeVar("M")
F = TypeVar("F", bound=Callable[..., Any])


def system(reason: str) -> Callable[[F], F]:
    """Marks a repository method that works without a subject, saying why; the architecture
    test keeps the list of them and fails on one it does not know. On PostgreSQL it runs with
    the row-level security bypass for its own duration (`app/core/tenancy.py`)."""

    def mark(method: F) -> F:
        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            with system_access(self.db):
                return method(self, *args, **kwargs)

        run.__system__ = reason  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return mark


# `__key_scope__` of a model whose rows a chatbot key sees across its customer: the quota and
# usage rows a question reads and writes
CUSTOMER_WIDE = "customer"


def key_scope(model: Any, subject: KeySubject) -> ColumnElement[bool]:
    """What of `model` a chatbot key sees: its chatbot's rows, found by the column the model's
    `__key_scope__` names (`chatbot_id` when it has one; a chatbot's own `id`), or all of its
    customer's when the model declares itself `CUSTOMER_WIDE`. A model that says nothing and has
    no `chatbot_id` shows a key nothing: a new table fails closed."""
    default = "chatbot_id" if hasattr(model, "chatbot_id") else None
    column = getattr(model, "__key_scope__", default)
    if column == CUSTOMER_WIDE:
        return true()
    if column is None:
        return false()
    return getattr(model, column) == subject.chatbot_id  # type: ignore[no-any-return]


class TenantRepository(Generic[M]):
    model: ClassVar[type[Any]]
    label: ClassVar[str] = "Object"

    def __init__(self, db: Session) -> None:
        self.db = db

    def scope(self, subject: AuthSubject) -> list[ColumnElement[bool]]:
        """The WHERE clauses that keep a statement inside what `subject` may read."""
        model: Any = self.model
        clauses = [model.customer_id == subject.customer_id]
        if isinstance(subject, KeySubject):
            clauses.append(key_scope(model, subject))
        return clauses

    def readable(self, subject: AuthSubject) -> Select[M]:
        return select(self.model).where(*self.scope(subject))

    def get(
        self, subject: AuthSubject, object_id: uuid.UUID, *, options: Sequence[ORMOption] = ()
    ) -> M:
        """The object, or 404 when it does not exist or is outside the subject's scope."""
        model: Any = self.model
        stmt = self.readable(subject).where(model.id == object_id).options(*options)
        found = self.db.scalars(stmt).one_or_none()
        if found is None:
            raise NotFound(f"{self.label} not found")
        return found

    def list(
        self, subject: AuthSubject, *where: ColumnElement[bool], order_by: Any = None
    ) -> Sequence[M]:
        stmt = self.readable(subject).where(*where)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        return self.db.scalars(stmt).all()

    def batches(
        self, subject: AuthSubject, *where: ColumnElement[bool], order_by: Any, size: int = 500
    ) -> Iterator[Sequence[M]]:
        """Every row in scope, `size` at a time, read from one cursor as they are consumed: all of
        a customer's history (its export) without holding it in memory at once."""
        stmt = self.readable(subject).where(*where).order_by(order_by)
        yield from self.db.scalars(stmt.execution_options(yield_per=size)).partitions()
