"""Running ingestion in the background. The database is the truth for status and progress.

Two runners share `process_document`:
- `InProcessRunner` (embedded default): one worker thread inside the API process. The embedded
  Chroma store may only be opened by one process, so ingestion must live where the API lives.
  On start it resumes documents left `queued` or `processing` by a previous run.
- `CeleryRunner` (CELERY_BROKER_URL set): tasks for separate `celery worker` processes, with late
  acknowledgement, so a killed worker's document is delivered again.
Chunk ids are deterministic and each run replaces the document's vectors, so a retry never
duplicates.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.chatbots.models import Chatbot
from app.core.config import Settings
from app.core.database import session_scope, utcnow
from app.core.vectors import embedder_for, vector_store_for
from app.documents import storage
from app.documents.models import Document
from ingestion import IngestionError, ingest

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_SECONDS = 0.5
INGEST_TASK = "ingestion.ingest_document"
INGEST_QUEUE = "ingestion"


class JobRunner(Protocol):
    def enqueue(self, document_id: uuid.UUID) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...


def _set(factory: sessionmaker[Session], document_id: uuid.UUID, **values: object) -> int:
    with session_scope(factory) as db:
        result = db.execute(update(Document).where(Document.id == document_id).values(**values))
        return result.rowcount  # type: ignore[attr-defined]


def process_document(
    factory: sessionmaker[Session],
    settings: Settings,
    document_id: uuid.UUID,
    on_progress: Callable[[int, int], None] | None = None,
) -> str:
    """Ingest one document; returns its final status. Failures end `failed` with a reason."""
    with session_scope(factory) as db:
        doc = db.get(Document, document_id)
        if doc is None:
            return "deleted"
        chatbot = db.get(Chatbot, doc.chatbot_id)
        assert chatbot is not None
        doc.status, doc.chunks_done, doc.error = "processing", 0, None
        doc.attempts += 1
        path = storage.document_path(settings, doc)
        kind, chatbot_id = doc.kind, str(doc.chatbot_id)
        meta = {"filename": doc.filename, "customer_id": str(doc.customer_id)}
        options = chatbot.settings or {}

    embedder = embedder_for(settings)
    store = vector_store_for(settings)
    chunk_size = options.get("chunk_size", settings.chunk_size)
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        if on_progress is not None:
            on_progress(done, total)
        now = time.monotonic()
        if done == total or now - last >= PROGRESS_INTERVAL_SECONDS:
            last = now
            _set(factory, document_id, chunks_done=done, chunks_total=total)

    try:
        chunks = ingest(
            path.read_bytes(),
            kind,
            document_id=str(document_id),
            chatbot_id=chatbot_id,
            embedder=embedder,
            store=store,
            chunk_size=chunk_size,
            chunk_overlap=min(
                options.get("chunk_overlap", settings.chunk_overlap), chunk_size // 2
            ),
            on_progress=report,
            extra_metadata=meta,
        )
    except (IngestionError, FileNotFoundError) as exc:
        reason = str(exc) if isinstance(exc, IngestionError) else "The uploaded file is missing"
        _set(factory, document_id, status="failed", error=reason)
        return "failed"
    except Exception:
        log.exception("ingestion of document %s failed", document_id)
        _set(
            factory,
            document_id,
            status="failed",
            error="An internal error stopped processing; reindex the document to retry",
        )
        return "failed"

    updated = _set(
        factory,
        document_id,
        status="ready",
        chunks_done=chunks,
        chunks_total=chunks,
        embedding_model=embedder.name,
        processed_at=utcnow(),
    )
    if not updated:  # deleted while we worked: take its vectors away again
        store.delete_document(chatbot_id, str(document_id))
        return "deleted"
    return "ready"


def pending_document_ids(factory: sessionmaker[Session]) -> list[uuid.UUID]:
    with session_scope(factory) as db:
        stmt = (
            select(Document.id)
            .where(Document.status.in_(("queued", "processing")))
            .order_by(Document.created_at)
        )
        return list(db.scalars(stmt))


class InProcessRunner:
    """One background thread; embedding is CPU-bound and already uses every core."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self._factory = factory
        self._settings = settings
        self._queue: queue.Queue[uuid.UUID | None] = queue.Queue()
        self._queued: set[uuid.UUID] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def enqueue(self, document_id: uuid.UUID) -> None:
        with self._lock:
            if document_id in self._queued:
                return
            self._queued.add(document_id)
        self._queue.put(document_id)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return  # one worker per process, however many times the app starts up
        self._thread = threading.Thread(target=self._run, name="ingestion-worker", daemon=True)
        self._thread.start()
        for document_id in pending_document_ids(self._factory):
            self.enqueue(document_id)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while True:
            document_id = self._queue.get()
            if document_id is None:
                return
            with self._lock:
                self._queued.discard(document_id)
            try:
                process_document(self._factory, self._settings, document_id)
            except Exception:  # the worker must outlive any one document
                log.exception("ingestion worker: document %s", document_id)


class CeleryRunner:
    """Sends tasks by name, so the API process never loads the worker's modules."""

    def __init__(self, broker_url: str) -> None:
        from celery import Celery

        self._celery = Celery("ingestion-client", broker=broker_url)

    def enqueue(self, document_id: uuid.UUID) -> None:
        self._celery.send_task(INGEST_TASK, args=[str(document_id)], queue=INGEST_QUEUE)

    def start(self) -> None:
        """Workers are separate processes (`celery -A app.documents.celery_app worker`)."""

    def stop(self) -> None:
        pass


def build_runner(factory: sessionmaker[Session], settings: Settings) -> JobRunner:
    if settings.celery_broker_url:
        return CeleryRunner(settings.celery_broker_url)
    return InProcessRunner(factory, settings)
