"""Background jobs: a queue of (job id, customer id), worked in this process or by Celery workers.

A kind of job (a document's ingestion, a website's crawl) is a `Work`: how to do one job, which
jobs a previous run left unfinished, and the Celery task that does one elsewhere. Its runner is
chosen by settings (`runner_for`):
- `InProcessRunner`: worker threads in the API process, customers taking turns (`FairQueue`).
  On start it queues again the jobs a previous run left unfinished; on stop it asks the job in
  hand to stop (`should_stop()`) and waits for it a bounded time.
- `CeleryRunner` (CELERY_BROKER_URL set): sends the task by name, so the API process never loads
  the worker's modules (`app/worker.py`); customers take turns through the broker's priorities.
Either runner also starts the work's one-off job (`at_start`) in a thread of its own.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Protocol

log = logging.getLogger(__name__)

# the queue of the Celery workers, which do every kind of job
CELERY_QUEUE = "ingestion"
# Redis emulates priorities with one list per step; 0 is served first
LOWEST_PRIORITY = 9
BROKER_PRIORITIES = {
    "priority_steps": list(range(LOWEST_PRIORITY + 1)),
    "queue_order_strategy": "priority",
}

StopFlag = Callable[[], bool]
Pending = list[tuple[uuid.UUID, uuid.UUID]]  # (job, customer)


def never() -> bool:
    """The stop flag of a job nothing asks to stop early (a Celery task, a script)."""
    return False


class JobQueue(Protocol):
    """Where a job waits to be done: all that the code queueing jobs needs."""

    def enqueue(self, job_id: uuid.UUID, customer_id: uuid.UUID) -> None: ...


class Runner(JobQueue, Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class Work:
    """What a kind of job does; the runners know nothing else of it."""

    name: str  # its threads' and log lines' name
    task: str  # the Celery task doing one job on a worker (`app/worker.py`)
    run: Callable[[uuid.UUID, StopFlag], str]  # one job, which ends early once should_stop()
    pending: Callable[[], Pending]  # the jobs a previous run left unfinished, oldest first
    threads: int = 1  # in-process workers
    stop_timeout: float = 10.0  # how long a stop waits for the jobs in hand
    # how many of a customer's jobs are queued, this one included: the broker's priority
    waiting: Callable[[uuid.UUID], int] | None = None
    # a one-off job of the API process when the runner starts, beside the queue's work
    at_start: Callable[[StopFlag], object] | None = None


class FairQueue:
    """Fair turns between customers for the in-process workers.

    One customer's forty large files once kept another customer's one-page document waiting for
    minutes in a first-in, first-out queue. Here each customer has a queue of its own and a
    worker serves the customer that has had the fewest jobs served (ties: the one served longest
    ago). A customer who starts queueing joins at the level of those already waiting, so it
    neither jumps ahead of them for long nor waits behind their backlog: a job waits for at most
    one job of every other customer with work queued, however many those customers sent.
    """

    def __init__(self) -> None:
        self._waiting: dict[uuid.UUID, deque[uuid.UUID]] = {}  # customers with work queued
        self._served: dict[uuid.UUID, int] = {}  # jobs served while they had work queued
        self._last_turn: dict[uuid.UUID, int] = {}
        self._turns = count()
        self._queued: set[uuid.UUID] = set()
        self._ready = threading.Condition()
        self._closed = False

    def put(self, job_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        """Queue a job; a job already queued keeps its place."""
        with self._ready:
            if job_id in self._queued:
                return
            self._queued.add(job_id)
            if customer_id not in self._waiting:
                self._waiting[customer_id] = deque()
                others = [self._served[c] for c in self._waiting if c != customer_id]
                self._served[customer_id] = min(others, default=0)
                self._last_turn.setdefault(customer_id, -1)
            self._waiting[customer_id].append(job_id)
            self._ready.notify()

    def get(self) -> uuid.UUID | None:
        """The next job in fair order; waits for one; None once the queue is closed."""
        with self._ready:
            while not self._waiting and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            customer_id = min(self._waiting, key=lambda c: (self._served[c], self._last_turn[c]))
            jobs = self._waiting[customer_id]
            job_id = jobs.popleft()
            self._served[customer_id] += 1
            self._last_turn[customer_id] = next(self._turns)
            if not jobs:  # its turn history ends with its work
                del self._waiting[customer_id], self._served[customer_id]
                del self._last_turn[customer_id]
            self._queued.discard(job_id)
            return job_id

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def reopen(self) -> None:
        with self._ready:
            self._closed = False

    def __len__(self) -> int:
        with self._ready:
            return len(self._queued)


def _start_once(work: Work, should_stop: StopFlag) -> None:
    """The work's one-off job in a daemon thread: it must not hold up the queue's jobs, nor the
    process's exit (it checks should_stop() between its steps)."""
    job = work.at_start
    if job is None:
        return

    def run() -> None:
        try:
            job(should_stop)
        except Exception:  # a one-off job is tried again at the next start
            log.exception("%s: the job at start failed", work.name)

    threading.Thread(target=run, name=f"{work.name}-at-start", daemon=True).start()


class InProcessRunner:
    """`work.threads` threads of this process working the queue, customers taking turns."""

    def __init__(self, work: Work) -> None:
        self._work = work
        self._queue = FairQueue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def enqueue(self, job_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        self._queue.put(job_id, customer_id)

    def start(self) -> None:
        if any(thread.is_alive() for thread in self._threads):
            return  # one set of workers per process, however many times the app starts up
        self._stopping.clear()
        self._queue.reopen()
        self._threads = [
            threading.Thread(target=self._run, name=f"{self._work.name}-worker-{n}", daemon=True)
            for n in range(self._work.threads)
        ]
        for thread in self._threads:
            thread.start()
        _start_once(self._work, self._stopping.is_set)
        for job_id, customer_id in self._work.pending():
            self.enqueue(job_id, customer_id)

    def stop(self) -> None:
        """Asks the jobs in hand to stop and waits for them at most `work.stop_timeout`; jobs
        not started stay unfinished in the database for the next start."""
        self._stopping.set()
        self._queue.close()  # wakes the threads waiting for work
        deadline = time.monotonic() + self._work.stop_timeout
        for thread in self._threads:
            thread.join(timeout=max(deadline - time.monotonic(), 0))
        if any(thread.is_alive() for thread in self._threads):
            log.warning("%s worker did not stop in %g s", self._work.name, self._work.stop_timeout)
        self._threads = []

    def _run(self) -> None:
        while not self._stopping.is_set():
            job_id = self._queue.get()
            if job_id is None:
                continue
            try:
                self._work.run(job_id, self._stopping.is_set)
            except Exception:  # the worker must outlive any one job
                log.exception("%s worker: job %s", self._work.name, job_id)


class CeleryRunner:
    """Sends `work.task` by name to the workers' queue (`celery -A app.worker worker`)."""

    def __init__(self, work: Work, broker_url: str) -> None:
        from celery import Celery

        self._work = work
        self._celery = Celery(f"{work.name}-client", broker=broker_url)
        self._celery.conf.broker_transport_options = BROKER_PRIORITIES
        self._stopping = threading.Event()

    def enqueue(self, job_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        options: dict[str, object] = {"queue": CELERY_QUEUE}
        if self._work.waiting is not None:
            # Customers take turns through the broker's priorities: a customer's first queued
            # job goes at the top priority, its tenth and later at the lowest, so one customer's
            # batch cannot keep another's single job waiting behind all of it.
            waiting = self._work.waiting(customer_id)
            options["priority"] = min(max(waiting - 1, 0), LOWEST_PRIORITY)
        self._celery.send_task(self._work.task, args=[str(job_id)], **options)

    def start(self) -> None:
        """The workers are separate processes; the API process runs only the one-off job."""
        self._stopping.clear()
        _start_once(self._work, self._stopping.is_set)

    def stop(self) -> None:
        self._stopping.set()


def runner_for(work: Work, broker_url: str | None) -> Runner:
    """Celery's runner when a broker is configured, else threads of this process."""
    if broker_url:
        return CeleryRunner(work, broker_url)
    return InProcessRunner(work)
