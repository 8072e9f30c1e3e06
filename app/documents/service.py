from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy.orm import Session

from app.billing.plans import plan_of
from app.chatbots.models import Chatbot
from app.core.config import Settings
from app.core.database import after_commit
from app.core.errors import (
    AppError,
    BadRequest,
    Conflict,
    PayloadTooLarge,
    PaymentRequired,
    Unprocessable,
    UnsupportedMediaType,
)
from app.core.subjects import AuthSubject
from app.core.vectors import vector_store_for
from app.core.workers import JobQueue
from app.customers.repository import CustomerRepository
from app.documents import storage
from app.documents.models import Document, DocumentStatus
from app.documents.repository import DocumentRepository
from app.documents.schemas import ChunkOut, ChunkPage, DocumentOut, UploadOut
from ingestion import IngestionError, UnsupportedDocument, validate


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Accepted:
    document: Document
    duplicate: bool


def _check_filename(name: str) -> str:
    if not name or len(name) > 255:
        raise BadRequest("The filename must be 1 to 255 characters long")
    if any(c in name for c in "/\\\x00") or name in (".", "..") or ".." in name.split("."):
        raise BadRequest(f"The filename {name!r} must be a plain name, without a path")
    if any(ord(c) < 32 for c in name):
        raise BadRequest("The filename must not contain control characters")
    return name


def _check(settings: Settings, incoming: IncomingFile) -> str:
    """The document kind, or an AppError that says what is wrong with this file."""
    _check_filename(incoming.filename)
    if len(incoming.data) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"The file is larger than the {settings.max_upload_mb} MB limit")
    try:
        return validate(incoming.data, incoming.filename)
    except UnsupportedDocument as exc:
        raise UnsupportedMediaType(str(exc)) from exc
    except IngestionError as exc:
        raise Unprocessable(str(exc)) from exc


def _validated(settings: Settings, files: Sequence[IncomingFile]) -> list[str]:
    """Validate every file before storing any, so a bad file rejects the batch and loses nothing."""
    kinds, problems = [], []
    for incoming in files:
        try:
            kinds.append(_check(settings, incoming))
        except AppError as exc:
            problems.append((incoming, exc))
    if not problems:
        return kinds
    if len(files) == 1:
        raise problems[0][1]
    first = problems[0][1]
    details = [{"file": f.filename, "code": e.code, "message": e.message} for f, e in problems]
    raise type(first)(
        f"{len(problems)} of {len(files)} files were rejected; nothing was stored: "
        + "; ".join(f"{d['file']}: {d['message']}" for d in details),
        details=details,
    )


def upload(
    db: Session,
    settings: Settings,
    jobs: JobQueue,
    subject: AuthSubject,
    chatbot: Chatbot,
    files: list[IncomingFile],
) -> list[UploadOut]:
    if not files:
        raise BadRequest("Send one file in 'file' or several in 'files'")
    kinds = _validated(settings, files)
    documents = DocumentRepository(db)
    digests = [hashlib.sha256(incoming.data).hexdigest() for incoming in files]
    new = {d for d in digests if documents.with_bytes(subject, chatbot.id, d) is None}
    _check_document_cap(db, subject, documents, len(new))
    accepted: list[Accepted] = []
    new_docs: list[tuple[Document, bytes]] = []
    for incoming, kind, digest in zip(files, kinds, digests, strict=True):
        existing = documents.with_bytes(subject, chatbot.id, digest)
        if existing is not None:
            accepted.append(Accepted(existing, duplicate=True))
            continue
        doc = Document(
            id=uuid.uuid4(),
            customer_id=chatbot.customer_id,
            chatbot_id=chatbot.id,
            filename=incoming.filename,
            kind=kind,
            size_bytes=len(incoming.data),
            sha256=digest,
            status=DocumentStatus.QUEUED,
        )
        db.add(doc)
        db.flush()  # the unique (chatbot, sha256) constraint also catches repeats in one batch
        new_docs.append((doc, incoming.data))
        accepted.append(Accepted(doc, duplicate=False))
    for doc, data in new_docs:
        storage.write(settings, doc, data)
        after_commit(db, partial(jobs.enqueue, doc.id, doc.customer_id))
    return [
        UploadOut(**DocumentOut.model_validate(a.document).model_dump(), duplicate=a.duplicate)
        for a in accepted
    ]


@dataclass(frozen=True)
class MadeContent:
    """A document the service makes (a web page, a text, a Q&A pair): its title as `filename`,
    its loader's `kind`, its bytes, where it comes from (`origin`: web, text, qa) and, for a web
    page, its address and website."""

    filename: str
    kind: str
    data: bytes
    origin: str
    url: str | None = None
    website_id: uuid.UUID | None = None


def add_content(
    db: Session,
    settings: Settings,
    jobs: JobQueue,
    subject: AuthSubject,
    chatbot_id: uuid.UUID,
    content: MadeContent,
) -> Accepted:
    """A document made by the service rather than uploaded, stored and queued like an upload;
    the same content already in the chatbot is returned."""
    documents = DocumentRepository(db)
    data = content.data
    digest = hashlib.sha256(data).hexdigest()
    existing = documents.with_bytes(subject, chatbot_id, digest)
    if existing is not None:
        return Accepted(existing, duplicate=True)
    _check_document_cap(db, subject, documents, 1)
    doc = Document(
        id=uuid.uuid4(),
        customer_id=subject.customer_id,
        chatbot_id=chatbot_id,
        filename=content.filename[:255],
        kind=content.kind,
        size_bytes=len(data),
        sha256=digest,
        status=DocumentStatus.QUEUED,
        origin=content.origin,
        url=content.url,
        website_id=content.website_id,
    )
    db.add(doc)
    db.flush()
    storage.write(settings, doc, data)
    after_commit(db, partial(jobs.enqueue, doc.id, doc.customer_id))
    return Accepted(doc, duplicate=False)


def replace_content(
    db: Session,
    settings: Settings,
    jobs: JobQueue,
    subject: AuthSubject,
    doc: Document,
    *,
    filename: str,
    data: bytes,
) -> Document:
    """New content for a document made by the service (an edited text, a changed web page),
    indexed again; 409 when another document of the chatbot has the same content."""
    digest = hashlib.sha256(data).hexdigest()
    renamed, doc.filename = doc.filename != filename[:255], filename[:255]
    if digest == doc.sha256:  # a new title alone still reaches the chunks' citations
        return reindex(db, jobs, doc) if renamed else doc
    same = DocumentRepository(db).with_bytes(subject, doc.chatbot_id, digest)
    if same is not None:
        raise Conflict(f"The document {same.filename!r} of this chatbot has the same content")
    doc.sha256, doc.size_bytes = digest, len(data)
    storage.write(settings, doc, data)
    return reindex(db, jobs, doc)


def _check_document_cap(
    db: Session, subject: AuthSubject, documents: DocumentRepository, adding: int
) -> None:
    """402 when the upload would take the customer past its plan's number of documents. The
    customer is locked first, so concurrent uploads count one after another (sixty at once once
    stored sixty documents under a cap of fifty)."""
    plan = plan_of(db, subject)
    if plan.max_documents is None:
        return
    CustomerRepository(db).lock(subject)
    stored = documents.stored(subject)
    if adding and stored + adding > plan.max_documents:
        raise PaymentRequired(
            f"The {plan.name} plan stores at most {plan.max_documents:,} documents; "
            f"{stored:,} are stored and this upload adds {adding}. Delete documents you no "
            "longer need, or upgrade the plan."
        )


def list_documents(db: Session, subject: AuthSubject, chatbot: Chatbot) -> Sequence[Document]:
    return DocumentRepository(db).of_chatbot(subject, chatbot.id)


def get_document(db: Session, subject: AuthSubject, document_id: uuid.UUID) -> Document:
    return DocumentRepository(db).get(subject, document_id)


def chunks(settings: Settings, doc: Document, offset: int, limit: int) -> ChunkPage:
    """A page of the document's chunks as retrieval sees them, in order."""
    total = doc.chunk_count
    indices = range(min(offset, total), min(offset + limit, total))
    hits = vector_store_for(settings).chunks(str(doc.chatbot_id), str(doc.id), indices)
    items = [
        ChunkOut(
            index=int(hit.metadata.get("chunk_index", index)),
            text=hit.text,
            page=hit.metadata.get("page"),
            heading=hit.metadata.get("heading"),
        )
        for index, hit in zip(indices, hits, strict=False)
    ]
    return ChunkPage(total=total, offset=offset, items=items)


def delete_document(db: Session, settings: Settings, doc: Document) -> None:
    """Remove the row, the file and every vector of the document."""
    vector_store_for(settings).delete_document(str(doc.chatbot_id), str(doc.id))
    storage.remove(settings, doc)
    db.delete(doc)
    db.flush()


def reindex(db: Session, jobs: JobQueue, doc: Document) -> Document:
    doc.status, doc.chunks_done, doc.chunks_total, doc.error = DocumentStatus.QUEUED, 0, 0, None
    db.flush()
    after_commit(db, partial(jobs.enqueue, doc.id, doc.customer_id))
    return doc


def reindex_chatbot(
    db: Session, settings: Settings, jobs: JobQueue, subject: AuthSubject, chatbot: Chatbot
) -> Sequence[Document]:
    """Rebuild the chatbot's collection from its files, e.g. after changing the embedding model."""
    vector_store_for(settings).delete_collection(str(chatbot.id))
    docs = list_documents(db, subject, chatbot)
    for doc in docs:
        reindex(db, jobs, doc)
    return docs
