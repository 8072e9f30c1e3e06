"""Fair turns between customers for the in-process ingestion worker.

One customer's forty large files once kept another customer's one-page document waiting for
minutes in a first-in, first-out queue. Here each customer has a queue of its own and the worker
serves the customer that has had the fewest documents served (ties: the one served longest ago).
A customer who starts queueing joins at the level of those already waiting, so it neither jumps
ahead of them for long nor waits behind their backlog: a document waits for at most one document
of every other customer with work queued, however many those customers sent.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from itertools import count


class FairQueue:
    def __init__(self) -> None:
        self._waiting: dict[uuid.UUID, deque[uuid.UUID]] = {}  # customers with work queued
        self._served: dict[uuid.UUID, int] = {}  # documents served while they had work queued
        self._last_turn: dict[uuid.UUID, int] = {}
        self._turns = count()
        self._queued: set[uuid.UUID] = set()
        self._ready = threading.Condition()
        self._closed = False

    def put(self, document_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        """Queue a document; a document already queued keeps its place."""
        with self._ready:
            if document_id in self._queued:
                return
            self._queued.add(document_id)
            if customer_id not in self._waiting:
                self._waiting[customer_id] = deque()
                others = [self._served[c] for c in self._waiting if c != customer_id]
                self._served[customer_id] = min(others, default=0)
                self._last_turn.setdefault(customer_id, -1)
            self._waiting[customer_id].append(document_id)
            self._ready.notify()

    def get(self) -> uuid.UUID | None:
        """The next document in fair order; waits for one; None once the queue is closed."""
        with self._ready:
            while not self._waiting and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            customer_id = min(self._waiting, key=lambda c: (self._served[c], self._last_turn[c]))
            documents = self._waiting[customer_id]
            document_id = documents.popleft()
            self._served[customer_id] += 1
            self._last_turn[customer_id] = next(self._turns)
            if not documents:  # its turn history ends with its work
                del self._waiting[customer_id], self._served[customer_id]
                del self._last_turn[customer_id]
            self._queued.discard(document_id)
            return document_id

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
