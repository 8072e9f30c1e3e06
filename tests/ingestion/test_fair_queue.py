"""Customers take turns in the ingestion queue."""

from __future__ import annotations

import threading
import uuid

from app.documents.scheduling import FairQueue


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
