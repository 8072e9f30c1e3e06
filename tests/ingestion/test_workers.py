"""The background workers of documents and crawls: customers take turns in the queue, jobs left
unfinished are resumed at start, a stop asks the job in hand to stop, and Celery gets the named
task at the priority of the customer's turn (on the real Redis)."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis
from celery import Celery

from app.core.workers import (
    BROKER_PRIORITIES,
    CELERY_QUEUE,
    FairQueue,
    InProcessRunner,
    Pending,
    StopFlag,
    Work,
    runner_for,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


def test_a_late_customer_waits_for_one_document_not_a_whole_batch():
    queue, a, b = FairQueue(), uuid.uuid4(), uuid.uuid4()
    batch = _ids(40)
    for doc in batch:
        queue.put(doc, a)
    first = queue.get()  # the worker takes A's first document
    single = uuid.uuid4()
    queue.put(single, b)

    assert first == batch[0]
    assert queue.get() == single
    assert [queue.get() for _ in range(39)] == batch[1:]


def test_three_customers_alternate_and_each_keeps_its_own_order():
    queue = FairQueue()
    customers = [uuid.uuid4() for _ in range(3)]
    docs = {c: _ids(3) for c in customers}
    for c in customers:
        for doc in docs[c]:
            queue.put(doc, c)
    served = [queue.get() for _ in range(9)]
    owner = {doc: c for c, ds in docs.items() for doc in ds}
    assert [owner[d] for d in served] == customers * 3
    for c in customers:
        assert [d for d in served if owner[d] == c] == docs[c]


def test_a_returning_customer_does_not_jump_ahead_for_long():
    queue, a, b = FairQueue(), uuid.uuid4(), uuid.uuid4()
    for doc in _ids(10):
        queue.put(doc, a)
    for _ in range(5):
        queue.get()
    late = _ids(3)
    for doc in late:
        queue.put(doc, b)
    owners = ["b" if queue.get() in late else "a" for _ in range(8)]
    assert owners == ["b", "a", "b", "a", "b", "a", "a", "a"]


def test_a_document_queued_twice_is_served_once():
    queue, a = FairQueue(), uuid.uuid4()
    doc = uuid.uuid4()
    queue.put(doc, a)
    queue.put(doc, a)
    assert len(queue) == 1
    assert queue.get() == doc
    assert len(queue) == 0


def test_closing_wakes_a_waiting_worker():
    queue = FairQueue()
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(queue.get()))
    worker.start()
    queue.close()
    worker.join(5)
    assert got == [None]


def _work(
    run: Callable[[uuid.UUID, StopFlag], str], pending: Pending | None = None, **more: Any
) -> Work:
    return Work(name="test", task="tests.job", run=run, pending=lambda: list(pending or []), **more)


def test_in_process_workers_resume_unfinished_jobs_and_customers_take_turns():
    a, b = uuid.uuid4(), uuid.uuid4()
    left = [uuid.uuid4() for _ in range(3)]  # A's jobs a previous run left unfinished
    late = uuid.uuid4()
    busy, release, all_done = threading.Event(), threading.Event(), threading.Event()
    done: list[uuid.UUID] = []

    def run(job_id: uuid.UUID, should_stop: StopFlag) -> str:
        busy.set()
        release.wait(5)
        done.append(job_id)
        if len(done) == 4:
            all_done.set()
        return "ready"

    runner = InProcessRunner(_work(run, [(job, a) for job in left]))
    runner.start()
    try:
        assert busy.wait(5)
        runner.enqueue(late, b)
        runner.enqueue(left[2], a)  # queued already: it keeps its place, done once
        release.set()
        assert all_done.wait(5)
    finally:
        runner.stop()
    assert done == [left[0], late, left[1], left[2]]


def test_stop_asks_the_job_in_hand_to_stop_and_the_next_start_resumes_it():
    job, customer = uuid.uuid4(), uuid.uuid4()
    started = threading.Semaphore(0)
    ended: list[str] = []

    def run(job_id: uuid.UUID, should_stop: StopFlag) -> str:
        started.release()
        while not should_stop():
            time.sleep(0.01)
        ended.append("interrupted")
        return "interrupted"

    runner = InProcessRunner(_work(run, [(job, customer)]))
    for _ in range(2):  # the server's start and stop, twice
        runner.start()
        assert started.acquire(timeout=5)
        began = time.monotonic()
        runner.stop()
        assert time.monotonic() - began < 1
    assert ended == ["interrupted", "interrupted"]


def test_a_failing_job_leaves_the_worker_running_and_a_stuck_one_is_given_up(caplog):
    fails, stuck, customer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stuck_started, unblock = threading.Event(), threading.Event()

    def run(job_id: uuid.UUID, should_stop: StopFlag) -> str:
        if job_id == fails:
            raise RuntimeError("a bug in one job")
        stuck_started.set()
        unblock.wait(10)  # deaf to should_stop(), as a fetch in flight is
        return "ready"

    runner = InProcessRunner(_work(run, stop_timeout=0.3))
    runner.start()
    runner.enqueue(fails, customer)
    runner.enqueue(stuck, customer)
    assert stuck_started.wait(5)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="app.core.workers"):
        runner.stop()
    unblock.set()
    assert 0.3 <= time.monotonic() - began < 1
    messages = [r.getMessage() for r in caplog.records]
    assert f"test worker: job {fails}" in messages
    assert "test worker did not stop in 0.3 s" in messages


@pytest.mark.parametrize("broker", [None, REDIS_URL], ids=["in-process", "celery"])
def test_the_job_at_start_runs_beside_the_queue_and_stops_with_the_runner(broker):
    """The lexical backfill's shape: started with the runner whichever it is, in a thread of its
    own, and asked to stop by the runner's stop."""
    running, stopped = threading.Event(), threading.Event()

    def at_start(should_stop: StopFlag) -> None:
        running.set()
        while not should_stop():
            time.sleep(0.01)
        stopped.set()

    runner = runner_for(_work(lambda job, stop: "ready", at_start=at_start), broker)
    runner.start()
    assert running.wait(5)
    assert not stopped.is_set()
    runner.stop()
    assert stopped.wait(5)


def test_celery_gets_the_named_task_and_customers_take_turns_through_priorities():
    """A's five jobs were queued before B's one; the workers take B's second."""
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.ConnectionError:
        pytest.fail(f"Redis does not answer at {REDIS_URL}")
    a, b = uuid.uuid4(), uuid.uuid4()
    queued: dict[uuid.UUID, int] = {a: 0, b: 0}

    def waiting(customer_id: uuid.UUID) -> int:
        queued[customer_id] += 1
        return queued[customer_id]

    runner = runner_for(_work(lambda job, stop: "ready", waiting=waiting), REDIS_URL)
    owner = {uuid.uuid4(): a for _ in range(5)} | {uuid.uuid4(): b}
    for job, customer in owner.items():
        runner.enqueue(job, customer)

    worker = Celery("tests-worker", broker=REDIS_URL)
    worker.conf.broker_transport_options = BROKER_PRIORITIES
    with worker.connection_for_read() as connection:
        queue = connection.SimpleQueue(CELERY_QUEUE)
        messages = [queue.get(timeout=5) for _ in owner]
        queue.close()
    assert {m.headers["task"] for m in messages} == {"tests.job"}
    served = [owner[uuid.UUID(m.decode()[0][0])] for m in messages]
    assert served == [a, b, a, a, a, a]
