"""Streamed answers that are finished properly whether or not anyone still reads them.

Each streamed answer is produced by a thread of its own (`StreamedAnswers.start`), which calls
the LLM, renders the events and records the exchange; the response only forwards what the
thread renders. When the client leaves, the response notices it as it happens (it listens for
the disconnect instead of waiting for its next write to fail) and requests the answer's `Stop`:
the provider's read is cut, the provider's request cancelled, and the thread records what was
produced, billed, as an interrupted answer, and gives back the reservation. At shutdown the
answers still running are stopped the same way and waited for, so none loses its record.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import suppress
from typing import TypeVar

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.core.concurrency import CustomerSlots
from app.llm import Stop

log = logging.getLogger(__name__)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

# what a streamed answer's thread renders: its response's chunks, until the stop is requested
Producer = Callable[[Stop], Iterator[str]]

_END = object()
T = TypeVar("T")


class AnswerRun:
    """One streamed answer: its producing thread starts when the response starts sending."""

    def __init__(self, produce: Producer, answers: StreamedAnswers) -> None:
        self.stop = Stop()
        self._produce = produce
        self._answers = answers
        self._started = False
        self._ended = False
        self._when_done: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def when_done(self, callback: Callable[[], None]) -> None:
        """Calls `callback` once the answer is over: its thread has recorded it, or the response
        ended without ever starting it."""
        with self._lock:
            if not self._ended:
                self._when_done.append(callback)
                return
        callback()

    def _end(self) -> None:
        with self._lock:
            self._ended = True
            callbacks, self._when_done = self._when_done, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("a streamed answer's completion callback failed")

    def response_ended(self) -> None:
        """The response is over: the answer is stopped; if its thread never started, it is
        over too."""
        self.stop.request()
        with self._lock:
            started = self._started
        if not started:
            self._end()

    async def chunks(self) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()

        def put(item: object) -> None:
            with suppress(RuntimeError):  # the loop is closed: nobody reads any more
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def run() -> None:
            try:
                for chunk in self._produce(self.stop):
                    put(chunk)
            except Exception:
                log.exception("a streamed answer failed")
            finally:
                put(_END)
                self._end()

        with self._lock:
            if self._ended:  # the response ended before it began to send
                return
            self._started = True
        self._answers.start(run, self.stop)
        while (item := await queue.get()) is not _END:
            assert isinstance(item, str)
            yield item


class StreamedAnswers:
    """The threads of the answers this process is streaming, so that shutdown can stop them and
    wait for their records."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[threading.Thread, Stop] = {}

    def run(self, produce: Producer) -> AnswerRun:
        return AnswerRun(produce, self)

    def start(self, target: Callable[[], None], stop: Stop) -> None:
        def run() -> None:
            try:
                target()
            finally:
                with self._lock:
                    del self._running[thread]

        thread = threading.Thread(target=run, name="streamed-answer", daemon=True)
        with self._lock:
            self._running[thread] = stop
        thread.start()

    def __len__(self) -> int:
        with self._lock:
            return len(self._running)

    def close(self, timeout: float) -> None:
        """Stops every answer still being streamed and waits (up to `timeout` seconds in all)
        for each to be recorded."""
        with self._lock:
            running = list(self._running.items())
        for _, stop in running:
            stop.request()
        end = time.monotonic() + timeout
        for thread, _ in running:
            thread.join(max(0.0, end - time.monotonic()))
            if thread.is_alive():
                log.warning("a streamed answer was still running at shutdown")


class AnswerStreamResponse(StreamingResponse):
    """The server-sent events of one answer (`AnswerRun`); the client's leaving stops it."""

    def __init__(self, run: AnswerRun) -> None:
        super().__init__(run.chunks(), media_type="text/event-stream", headers=SSE_HEADERS)
        self.run = run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    await self.listen_for_disconnect(receive)
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                with suppress(OSError):  # the client left while we wrote
                    await self.stream_response(send)
                group.cancel_scope.cancel()
        finally:
            # the client left, or the server is shutting down; once the answer is complete
            # (recorded before its last event is rendered) this changes nothing
            self.run.response_ended()


def hold_until_answered(slots: CustomerSlots, customer_id: uuid.UUID, ask: Callable[[], T]) -> T:
    """Runs `ask` in one of the customer's slots (429 when none is free) and keeps the slot until
    the answer is over: a streamed answer's when its thread has recorded it, so that a key's
    streamed questions are bounded like its others while the LLM produces them."""
    slots.claim(customer_id)
    try:
        result = ask()
    except BaseException:
        slots.give_back(customer_id)
        raise
    if isinstance(result, AnswerStreamResponse):
        result.run.when_done(lambda: slots.give_back(customer_id))
    else:
        slots.give_back(customer_id)
    return result
