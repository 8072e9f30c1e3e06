"""The documents domain's dependencies: its job queue, and the path's document when it is the
signed-in user's customer's."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.auth.deps import CurrentUser
from app.core.database import DB
from app.core.deps import from_state
from app.core.workers import JobQueue
from app.documents import service
from app.documents.models import Document

Jobs = Annotated[JobQueue, Depends(from_state("jobs"))]


def users_document(document_id: uuid.UUID, user: CurrentUser, db: DB) -> Document:
    """The path's document, when it is one of the signed-in user's customer's (404 otherwise)."""
    return service.get_document(db, user, document_id)


# declared after the route's user, as `UsersChatbot` is
UsersDocument = Annotated[Document, Depends(users_document)]
