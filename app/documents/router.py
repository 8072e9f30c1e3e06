from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status
from pydantic.json_schema import SkipJsonSchema

from app.auth.deps import CurrentUser, Expensive, StaffUser
from app.chatbots.deps import UsersChatbot
from app.core.database import DB
from app.core.deps import AppSettings
from app.core.openapi import errors
from app.documents import service
from app.documents.deps import Jobs, UsersDocument
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
    responses=errors(402, 409, 415),
)
def upload(
    user: StaffUser,
    chatbot: UsersChatbot,
    db: DB,
    settings: AppSettings,
    jobs: Jobs,
    # either may be left out, but a part sent is a file: the document does not offer null
    file: Annotated[UploadFile | SkipJsonSchema[None], File(description="one document")] = None,
    files: Annotated[
        list[UploadFile] | SkipJsonSchema[None], File(description="several documents")
    ] = None,
) -> list[UploadOut]:
    """Store documents and queue them for ingestion; answers at once with their rows."""
    uploads = ([file] if file else []) + (files or [])
    incoming = [_read(u, settings.max_upload_bytes) for u in uploads]
    return service.upload(db, settings, jobs, user, chatbot, incoming)


@router.get("/api/chatbots/{chatbot_id}/documents", response_model=list[DocumentOut])
def list_documents(user: CurrentUser, chatbot: UsersChatbot, db: DB):
    return service.list_documents(db, user, chatbot)


@router.get("/api/documents/{document_id}", response_model=DocumentOut)
def get_document(doc: UsersDocument):
    return doc


@router.get("/api/documents/{document_id}/chunks", response_model=ChunkPage)
def document_chunks(
    doc: UsersDocument,
    settings: AppSettings,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ChunkPage:
    """The document's chunks, in order, as retrieval finds them (empty until it is ready)."""
    return service.chunks(settings, doc, offset, limit)


@router.delete("/api/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_document(user: StaffUser, doc: UsersDocument, db: DB, settings: AppSettings) -> None:
    service.delete_document(db, settings, doc)


@router.post(
    "/api/documents/{document_id}/reindex",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def reindex(user: StaffUser, doc: UsersDocument, db: DB, jobs: Jobs):
    return service.reindex(db, jobs, doc)


@router.post(
    "/api/chatbots/{chatbot_id}/reindex",
    response_model=list[DocumentOut],
    status_code=status.HTTP_202_ACCEPTED,
)
def reindex_chatbot(
    user: StaffUser, chatbot: UsersChatbot, db: DB, settings: AppSettings, jobs: Jobs
):
    """Drop the chatbot's vectors and ingest all its documents again (after a model change)."""
    return service.reindex_chatbot(db, settings, jobs, user, chatbot)
