from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Query, Request, UploadFile, status

from app.auth.deps import CurrentUser, Expensive, StaffUser
from app.chatbots.service import get_chatbot
from app.core.database import DB
from app.documents import service
from app.documents.schemas import ChunkPage, DocumentOut, UploadOut

router = APIRouter(tags=["documents"])


def _read(upload: UploadFile, limit: int) -> service.IncomingFile:
    # one byte past the limit is enough to know the file is too large
    return service.IncomingFile(upload.filename or "", upload.file.read(limit + 1))


@router.post(
    "/api/upload/{chatbot_id}",
    response_model=list[UploadOut],
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Expensive],
)
def upload(
    chatbot_id: uuid.UUID,
    request: Request,
    user: StaffUser,
    db: DB,
    file: Annotated[UploadFile | None, File(description="one document")] = None,
    files: Annotated[list[UploadFile] | None, File(description="several documents")] = None,
) -> list[UploadOut]:
    """Store documents and queue them for ingestion; answers at once with their rows."""
    settings = request.app.state.settings
    chatbot = get_chatbot(db, user, chatbot_id)
    uploads = ([file] if file else []) + (files or [])
    incoming = [_read(u, settings.max_upload_bytes) for u in uploads]
    return service.upload(db, settings, request.app.state.jobs, user, chatbot, incoming)


@router.get("/api/chatbots/{chatbot_id}/documents", response_model=list[DocumentOut])
def list_documents(chatbot_id: uuid.UUID, user: CurrentUser, db: DB):
    chatbot = get_chatbot(db, user, chatbot_id)
    return service.list_documents(db, user, chatbot)


@router.get("/api/documents/{document_id}", response_model=DocumentOut)
def get_document(document_id: uuid.UUID, user: CurrentUser, db: DB):
    return service.get_document(db, user, document_id)


@router.get("/api/documents/{document_id}/chunks", response_model=ChunkPage)
def document_chunks(
    document_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    db: DB,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ChunkPage:
    """The document's chunks, in order, as retrieval finds them (empty until it is ready)."""
    doc = service.get_document(db, user, document_id)
    return service.chunks(request.app.state.settings, doc, offset, limit)


@router.delete("/api/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_document(document_id: uuid.UUID, request: Request, user: StaffUser, db: DB) -> None:
    doc = service.get_document(db, user, document_id)
    service.delete_document(db, request.app.state.settings, doc)


@router.post(
    "/api/documents/{document_id}/reindex",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def reindex(document_id: uuid.UUID, request: Request, user: StaffUser, db: DB):
    doc = service.get_document(db, user, document_id)
    return service.reindex(db, request.app.state.jobs, doc)


@router.post(
    "/api/chatbots/{chatbot_id}/reindex",
    response_model=list[DocumentOut],
    status_code=status.HTTP_202_ACCEPTED,
)
def reindex_chatbot(chatbot_id: uuid.UUID, request: Request, user: StaffUser, db: DB):
    """Drop the chatbot's vectors and ingest all its documents again (after a model change)."""
    chatbot = get_chatbot(db, user, chatbot_id)
    return service.reindex_chatbot(
        db, request.app.state.settings, request.app.state.jobs, user, chatbot
    )
