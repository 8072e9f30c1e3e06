"""Celery app for ingestion workers: `celery -A app.worker worker`.

Late acknowledgement: a task is acknowledged only after it ran, so a worker killed in the middle
of a document leaves the message to be delivered again (after the broker's visibility timeout).

SIGTERM is Celery's warm shutdown: the worker takes no new task and exits once the document in
hand is finished, which can take minutes. A worker stopped harder (SIGQUIT, or SIGKILL when a stop
timeout runs out) leaves its document to redelivery, and the document is redone from the start.

Its metrics (documents, chunks, embedding queue time) reach `/metrics` only in prometheus-client's
multiprocess mode, with the API on the same host sharing `PROMETHEUS_MULTIPROC_DIR`.
"""

from __future__ import annotations

import uuid
from functools import lru_cache

from celery import Celery
from sqlalchemy.orm import Session, sessionmaker

import app.models  # noqa: F401 - registers every mapper before the first query
from app.core.config import get_settings
from app.core.database import make_engine, make_sessionmaker
from app.core.metrics import observe_embedding_engine
from app.core.workers import BROKER_PRIORITIES, CELERY_QUEUE, CeleryRunner, Work, never
from app.documents.jobs import INGEST_TASK, ingestion
from app.sources.jobs import CRAWL_TASK, crawls
from ingestion.isolation import lower_priority

# A worker is a process of its own already: it runs its documents itself, at the priority an
# ingestion child would have (INGESTION_NICE; nice 19 adds Linux's idle class), so an API process
# on the same host keeps the cores for questions. Deleting a document stops its work at the next
# slice of passages (about half a second) rather than at once.
settings = get_settings().model_copy(update={"ingestion_process": False})
if get_settings().ingestion_process:
    lower_priority(settings.ingestion_nice)
celery_app = Celery("ingestion", broker=settings.celery_broker_url)
celery_app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    broker_transport_options={
        "visibility_timeout": settings.celery_visibility_timeout,
        **BROKER_PRIORITIES,
    },
    task_default_queue=CELERY_QUEUE,
)
observe_embedding_engine()


@lru_cache
def _factory() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(settings.database_url))


@lru_cache
def _ingestion() -> Work:
    return ingestion(_factory(), settings)


@lru_cache
def _crawls() -> Work:
    """Crawls queue each page's document back to the workers, through the broker."""
    assert settings.celery_broker_url  # a worker runs on a broker
    return crawls(_factory(), settings, CeleryRunner(_ingestion(), settings.celery_broker_url))


@celery_app.task(
    name=INGEST_TASK,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
)
def ingest_document(document_id: str) -> str:
    return _ingestion().run(uuid.UUID(document_id), never)


@celery_app.task(name=CRAWL_TASK)
def crawl_website(source_id: str) -> str:
    """A website source's crawl; each page's document goes back to the queue as its own task."""
    return _crawls().run(uuid.UUID(source_id), never)
