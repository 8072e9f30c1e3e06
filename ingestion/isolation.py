"""A document's CPU work (loading, splitting, embedding) in a child process at the lowest priority.

Ingesting is seconds to minutes of CPU on both cores: parsing a PDF, counting tokens to split it,
embedding every chunk. A question needs milliseconds of the same cores. Sharing one process, the
question waited for the passage slice in progress and then shared the cores (and the GIL) with
the rest of the document: another customer's question took 1.6 s instead of 78 ms at the median
while a manual was being ingested. In a child process niced to 19, the kernel hands the cores to
a question's threads the moment they are runnable and gives them back to ingestion the moment
they are not, with no slice to wait for; the GIL and the OpenMP team are the child's own.

The child is also what makes work cancellable at once whatever step it is in: `should_stop` is
asked every POLL_SECONDS while the child works, and a yes kills the child (a new one starts for
the next document). A child that dies on its own (out of memory on a hostile file) fails that
document only.

The child never touches the database or the vector store: it gets bytes and texts and gives back
chunks and vectors; the caller stores them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from ingestion.errors import (
    IngestionCancelled,
    IngestionError,
    InvalidDocument,
    TooManyChunks,
    UnsupportedDocument,
)
from ingestion.splitter import Chunk

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # how often a waiting caller asks should_stop: the latency of a cancel
LOWEST_PRIORITY = 19
_ERRORS: dict[str, type[IngestionError]] = {
    cls.__name__: cls
    for cls in (IngestionError, InvalidDocument, TooManyChunks, UnsupportedDocument)
}


def _serve(conn: Connection, backend: str, model: str, device: str, nice: int) -> None:
    """The child's loop: one request at a time, answered ("ok", result), ("refused", (error
    class, message)) for a document's own fault, or ("crashed", traceback)."""
    lower_priority(nice)
    from ingestion.embedders import get_embedder
    from ingestion.loaders import load
    from ingestion.splitter import split

    embedder = get_embedder(backend, model, device)
    lower_priority(nice)  # threads the embedder started from another thread than this one
    while True:
        try:
            op, args = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        try:
            if op == "split":
                data, kind, options = args
                result: Any = split(
                    load(data, kind),
                    count_tokens=embedder.count_tokens,
                    max_tokens=embedder.max_tokens,
                    **options,
                )
            elif op == "embed":
                result = embedder.embed_passages(args)
            else:
                raise ValueError(f"unknown request {op!r}")
            conn.send(("ok", result))
        except IngestionError as exc:
            conn.send(("refused", (type(exc).__name__, exc.message)))
        except Exception:
            conn.send(("crashed", traceback.format_exc()))


def lower_priority(nice: int) -> None:
    """Every thread of the process to `nice`, and at the lowest priority to Linux's idle class
    (run only on a core nothing else wants). On Linux both are per thread: threads started later
    inherit them from their creator, those already running (started by imports) must be set."""
    idle = nice == LOWEST_PRIORITY and hasattr(os, "SCHED_IDLE")
    for task in os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["0"]:
        tid = int(task)
        try:
            os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
            if idle:
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except ProcessLookupError:  # a thread that ended meanwhile
            continue


class IsolatedWorker:
    """A child process for one embedding configuration, started on first use and again after a
    cancel or a crash. One request at a time: callers queue on a lock (each process has one
    ingestion thread, so in practice nobody waits)."""

    def __init__(
        self, backend: str, model: str, device: str = "cpu", nice: int = LOWEST_PRIORITY
    ) -> None:
        self._spec = (backend, model, device, nice)
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def split(
        self,
        data: bytes,
        kind: str,
        should_stop: Callable[[], bool] | None = None,
        **options: Any,
    ) -> list[Chunk]:
        """`ingestion.split(ingestion.load(data, kind), **options)`, counting tokens with the
        configured embedder."""
        chunks: list[Chunk] = self._call("split", (data, kind, options), should_stop)
        return chunks

    def embed_passages(
        self, texts: list[str], should_stop: Callable[[], bool] | None = None
    ) -> np.ndarray:
        vectors: np.ndarray = self._call("embed", list(texts), should_stop)
        return vectors

    def close(self) -> None:
        with self._lock:
            self._kill()

    def _call(self, op: str, args: object, should_stop: Callable[[], bool] | None) -> Any:
        with self._lock:
            process, conn = self._ensure_started()
            conn.send((op, args))
            while not conn.poll(POLL_SECONDS):
                if should_stop is not None and should_stop():
                    self._kill()
                    raise IngestionCancelled("stopped while the worker process was busy")
                if not process.is_alive():
                    break
            try:
                status, payload = conn.recv()
            except (EOFError, OSError):
                code = process.exitcode if not process.is_alive() else None
                self._kill()
                log.warning("ingestion worker process died (exit code %s)", code)
                raise InvalidDocument(
                    "Processing this document stopped the ingestion worker (it ran out of memory "
                    "or crashed). Check that the file opens, or split it into smaller files."
                ) from None
        if status == "refused":
            name, message = payload
            raise _ERRORS.get(name, IngestionError)(message)
        if status == "crashed":
            raise RuntimeError(f"ingestion worker process: {payload}")
        return payload

    def _ensure_started(self) -> tuple[BaseProcess, Connection]:
        if self._process is not None and self._conn is not None and self._process.is_alive():
            return self._process, self._conn
        self._kill()
        # spawn, not fork: the parent has threads (the server's, the embedding engine's OpenMP
        # team), and a forked copy of their locks can deadlock the child
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=_serve, args=(theirs, *self._spec), name="ingestion-worker", daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        return process, ours

    def _kill(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(timeout=5)
        self._process = self._conn = None


_workers: dict[tuple[str, str, str, int], IsolatedWorker] = {}
_workers_lock = threading.Lock()


def get_isolated_worker(
    backend: str, model: str, device: str = "cpu", nice: int = LOWEST_PRIORITY
) -> IsolatedWorker:
    """The process-wide worker for these settings (its child starts on first use)."""
    key = (backend, model, device, nice)
    with _workers_lock:
        if key not in _workers:
            _workers[key] = IsolatedWorker(backend, model, device, nice)
        return _workers[key]
