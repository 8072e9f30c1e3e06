"""A real HTTP server on loopback that speaks OpenAI-style chat completions, as Fireworks and the
OpenAI-compatible servers do, so the provider tests go through the real SDKs and the real network
stack.

It answers `POST /v1/chat/completions` and `POST /inference/v1/chat/completions` (the Fireworks
path), in JSON or as server-sent events, records every request, and follows a script of behaviours
for the next requests; without a script it answers deterministically from the request.

Usage in streams follows the real servers: on an OpenAI-style path it is sent (in a last chunk
with no choices) only when `stream_options.include_usage` asks for it; on the Fireworks path it
always comes with the last chunk.
"""

from __future__ import annotations

import json
import re
import selectors
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
HOLD_SECONDS = 300.0  # the longest a held request waits for its release
CHAT_PATHS = ("/v1/chat/completions", "/inference/v1/chat/completions")
FIREWORKS_PATH_PREFIX = "/inference/"


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names lowercased
    body: dict[str, Any]
    received_at: float = 0.0  # time.monotonic(), comparable across processes of one machine


@dataclass(frozen=True)
class Behaviour:
    """How to answer one request; the defaults give the normal deterministic answer."""

    status: int = 200
    retry_after: float | None = None
    delay: float = 0.0
    text: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    report_usage: bool = True
    # Streams only: after this many deltas, do `interruption` instead of finishing.
    interrupt_after: int | None = None
    interruption: str = "drop"  # "drop" the connection, send an "error" event, or "stall"
    stall: float = 0.0
    # Streams only: headers at once, the first delta after this many seconds (an LLM's time to
    # first token)
    first_token_delay: float = 0.0
    # Once recorded, the request waits until this is set (at most HOLD_SECONDS), then is answered
    hold: threading.Event | None = None


def count_words(text: str) -> int:
    """The fake's token count: whitespace-separated words."""
    return len(text.split())


def default_reply(messages: list[dict[str, str]]) -> str:
    last = messages[-1]["content"] if messages else ""
    return f"Received {len(messages)} messages. The last one said: {last}"


class FakeLLMServer:
    def __init__(self, default: Behaviour | None = None) -> None:
        """`default`: how to answer requests the script says nothing about."""
        self.requests: list[RecordedRequest] = []
        # time.monotonic() at which each stream's first delta was written to the socket
        self.first_tokens: list[float] = []
        # time.monotonic() at which a stalled stream saw its client close the connection
        self.abandoned: list[float] = []
        self._default = default or Behaviour()
        self._script: deque[Behaviour] = deque()
        self._lock = threading.Lock()
        self._httpd = _HTTPServer((HOST, 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The server's root; OpenAI-style clients want `/v1` after it."""
        return f"http://{HOST}:{self._httpd.server_port}"

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._script.clear()
            self.abandoned.clear()

    def fail_next(
        self, status: int = 500, *, times: int = 1, retry_after: float | None = None
    ) -> None:
        self._add(Behaviour(status=status, retry_after=retry_after), times)

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        self._add(Behaviour(delay=seconds), times)

    def hold_next(self, *, times: int = 1) -> threading.Event:
        """The next `times` requests are recorded, then held unanswered until the returned event
        is set: "while the LLM is still answering" as a state a test controls, not a delay it
        hopes is long enough."""
        release = threading.Event()
        self._add(Behaviour(hold=release), times)
        return release

    def reply_with(
        self,
        text: str,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        report_usage: bool = True,
        times: int = 1,
    ) -> None:
        behaviour = Behaviour(
            text=text,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            report_usage=report_usage,
        )
        self._add(behaviour, times)

    def interrupt_stream(self, *, after_deltas: int, how: str = "drop", stall: float = 0.0) -> None:
        """The next stream sends `after_deltas` deltas, then drops the connection ("drop"), sends
        an in-band error event ("error") or goes silent for `stall` seconds ("stall")."""
        if how not in ("drop", "error", "stall"):
            raise ValueError(f"unknown interruption {how!r}")
        self._add(Behaviour(interrupt_after=after_deltas, interruption=how, stall=stall), 1)

    def _add(self, behaviour: Behaviour, times: int) -> None:
        with self._lock:
            self._script.extend([behaviour] * times)

    def _take(self, request: RecordedRequest) -> Behaviour:
        with self._lock:
            self.requests.append(request)
            return self._script.popleft() if self._script else self._default


class _HTTPServer(ThreadingHTTPServer):
    fake: FakeLLMServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or close kept-alive connections are part of the tests.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 with chunked streams, like real servers: a dropped stream is then visible to the
    # client as an incomplete body rather than a normal end.
    protocol_version = "HTTP/1.1"
    # headers and body leave in separate writes; with Nagle on, the client's delayed ACK adds
    # ~40 ms to every reply on a kept-alive connection
    disable_nagle_algorithm = True
    server: _HTTPServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = RecordedRequest(self.path, headers, body, time.monotonic())
        behaviour = self.server.fake._take(request)
        try:
            self._answer(body, behaviour)
        except ConnectionError:
            # The client gave up (timed out) while we were delaying on purpose.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, body: dict[str, Any], behaviour: Behaviour) -> None:
        if self.path not in CHAT_PATHS:
            self._send_json(404, _error_body("not found", "not_found"))
            return
        if behaviour.hold is not None:
            behaviour.hold.wait(HOLD_SECONDS)
        time.sleep(behaviour.delay)
        if behaviour.status != 200:
            headers = {}
            if behaviour.retry_after is not None:
                headers["retry-after-ms"] = str(int(behaviour.retry_after * 1000))
            self._send_json(
                behaviour.status, _error_body("scripted failure", "server_error"), headers
            )
            return
        reply = _Reply.build(body, behaviour)
        if body.get("stream"):
            self._send_stream(body, reply, behaviour)
        else:
            self._send_json(200, reply.completion())

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_stream(self, body: dict[str, Any], reply: _Reply, behaviour: Behaviour) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        time.sleep(behaviour.first_token_delay)
        for sent, delta in enumerate(reply.deltas()):
            if sent == behaviour.interrupt_after and not self._interrupt(behaviour):
                return
            self._send_event(reply.chunk({"content": delta}))
            if sent == 0:
                self.server.fake.first_tokens.append(time.monotonic())
        fireworks_style = self.path.startswith(FIREWORKS_PATH_PREFIX)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        last = reply.chunk({}, finish_reason="stop")
        if fireworks_style and reply.usage:
            last["usage"] = reply.usage
        self._send_event(last)
        if include_usage and not fireworks_style and reply.usage:
            self._send_event({**reply.chunk({}), "choices": [], "usage": reply.usage})
        self._send_chunk(b"data: [DONE]\n\n")
        self._send_chunk(b"")

    def _interrupt(self, behaviour: Behaviour) -> bool:
        """Interrupts the stream; returns whether it may go on afterwards."""
        if behaviour.interruption == "stall":
            if self._client_left_within(behaviour.stall):
                self.server.fake.abandoned.append(time.monotonic())
                self.close_connection = True
                return False
            return True
        if behaviour.interruption == "error":
            self._send_event(_error_body("overloaded mid-stream", "server_error"))
            self._send_chunk(b"data: [DONE]\n\n")
            self._send_chunk(b"")
        self.close_connection = True  # without the terminating chunk: the body is incomplete
        return False

    def _client_left_within(self, seconds: float) -> bool:
        """Waits `seconds`, or less if the client closes the connection (as a real provider
        notices a cancelled request); returns whether it did."""
        # a selector, not select.select: a long test run holds more than FD_SETSIZE (1024)
        # descriptors, and select() refuses any numbered above it
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            if not selector.select(seconds):
                return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _send_event(self, payload: dict[str, Any]) -> None:
        self._send_chunk(f"data: {json.dumps(payload)}\n\n".encode())

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")


@dataclass(frozen=True)
class _Reply:
    text: str
    model: str
    usage: dict[str, int] | None

    @classmethod
    def build(cls, body: dict[str, Any], behaviour: Behaviour) -> _Reply:
        messages = body.get("messages", [])
        text = behaviour.text if behaviour.text is not None else default_reply(messages)
        usage = None
        if behaviour.report_usage:
            input_tokens = behaviour.input_tokens
            if input_tokens is None:
                input_tokens = sum(count_words(m.get("content") or "") for m in messages)
            output_tokens = behaviour.output_tokens
            if output_tokens is None:
                output_tokens = count_words(text)
            usage = {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            }
        return cls(text=text, model=body.get("model", "fake-model"), usage=usage)

    def deltas(self) -> list[str]:
        """The text in pieces of one word and the spaces after it."""
        return [piece for piece in re.split(r"(?<=\s)(?=\S)", self.text) if piece]

    def completion(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.text},
                    "finish_reason": "stop",
                }
            ],
        }
        if self.usage:
            payload["usage"] = self.usage
        return payload

    def chunk(self, delta: dict[str, str], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code, "code": code}}
