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
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import suppress

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from app.llm import Stop

log = logging.getLogger(__name__)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

# what a streamed answer's thread renders: its response's chunks, until the stop is requested
Producer = Callable[[Stop], Iterator[str]]

_END = object()


class AnswerRun:
    """One streamed answer: its producing thread starts when the response starts sending."""

    def __init__(self, produce: Producer, answers: StreamedAnswers) -> None:
        self.stop = Stop()
        self._produce = produce
        self._answers = answers

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
            self.run.stop.request()
