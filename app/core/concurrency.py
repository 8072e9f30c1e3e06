"""Per-customer bounds on work in flight, so one customer cannot hold what every customer shares.

A server process has a bounded thread pool and database pool and one embedding engine. Forty
loops of long retrievals by one customer once held them all, and another customer's questions
waited half a minute for a connection (issue 26). Each customer may have `limit` expensive
requests (questions, retrievals, uploads) in flight in a process; past that the request is
refused at once with 429 and Retry-After, before it queues for anything. The bound is per process
because what it protects is per process; several API processes each have their own.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.core.errors import TooManyRequests


class CustomerSlots:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._busy: Counter[uuid.UUID] = Counter()
        self._lock = threading.Lock()

    @asynccontextmanager
    async def hold_waiting(self, customer_id: uuid.UUID, wait: float) -> AsyncIterator[None]:
        """One of the customer's slots for the block, taken in the event loop: with every slot
        taken, it waits `wait` seconds (holding no thread) and tries once more before the 429."""
        if not self.take(customer_id):
            await asyncio.sleep(wait)
            self.claim(customer_id)
        try:
            yield
        finally:
            self.give_back(customer_id)

    def claim(self, customer_id: uuid.UUID) -> None:
        """Takes a slot; 429 at once when none is free. Whoever claimed one gives it back."""
        if not self.take(customer_id):
            raise TooManyRequests(
                f"This account already has {self._limit} requests in progress; retry when one "
                "has finished",
                retry_after=1,
            )

    def take(self, customer_id: uuid.UUID) -> bool:
        """Takes a slot if one is free; whoever got one gives it back (`give_back`)."""
        with self._lock:
            if self._busy[customer_id] >= self._limit:
                return False
            self._busy[customer_id] += 1
            return True

    def give_back(self, customer_id: uuid.UUID) -> None:
        with self._lock:
            self._busy[customer_id] -= 1
            if not self._busy[customer_id]:
                del self._busy[customer_id]

    def in_flight(self, customer_id: uuid.UUID) -> int:
        with self._lock:
            return self._busy[customer_id]
