"""The real server, as `scripts/start` runs it: uvicorn in a process of its own on a free port,
configured only through environment variables, with its log written to a file the tests read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import migrate
from tests.servers import BIN, ROOT, free_port, wait_for

# Ingestion is CPU work at the lowest priority: a busy machine stretches it many times over, and
# a passing test waits only as long as the work takes.
INGESTION_TIMEOUT = 300.0
LOG_TIMEOUT = 60.0  # for a line the server is about to write

# Settings the developer's shell or .env might hold that would change what the tests see.
CLEARED = ("PUBLIC_BASE_URL", "CELERY_BROKER_URL", "CHROMA_HOST", "PROMETHEUS_MULTIPROC_DIR")


@dataclass
class Workspace:
    """Database, uploads and vector store of one server's life, kept across its restarts."""

    root: Path

    def env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        env.update(
            ENV="test",
            DATABASE_URL=f"sqlite:///{self.root / 'app.db'}",
            SECRET_KEY="ops-test-secret-" + "x" * 40,
            UPLOAD_DIR=str(self.root / "uploads"),
            VECTORSTORE_DIR=str(self.root / "vectorstores"),
            LLM_PROVIDER="extractive",
            HF_HUB_OFFLINE="1",
            LOG_FORMAT="json",
        )
        env.update(overrides)
        return env


@dataclass
class Server:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def json_log(self) -> list[dict]:
        return [json.loads(line) for line in self.log_lines() if line.strip()]

    def wait_for_json_log(self, found: Callable[[list[dict]], bool], what: str) -> list[dict]:
        """The JSON log's entries, once `found(entries)` says they hold what the test looks for."""
        return _wait_for_lines(self.json_log, found, what)

    def terminate(self) -> float:
        """SIGTERM, then the seconds until the process has exited."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        return time.monotonic() - sent

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_for_lines(read: Callable[[], list], found: Callable[[list], bool], what: str) -> list:
    """The server writes a line when it gets to it: a request's access line after the response
    is sent, a document's "finished" after the document shows `ready`. A test that has its
    answer can be ahead of the line, so it waits for it (a line being written is read again)."""
    lines: list = []

    def check() -> bool:
        lines[:] = read()
        return found(lines)

    wait_for(check, LOG_TIMEOUT, what)
    return lines


def start_server(
    workspace: Workspace,
    probe_host: str | None = None,
    uvicorn_args: tuple[str, ...] = (),
    **env: str,
) -> Server:
    """Starts the server and waits until `/health` answers, asked with `probe_host` as the Host
    header when given (the first request is the one that fixes the public address)."""
    port = free_port()
    log_path = workspace.root / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(BIN / "uvicorn"),
                "app.main:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *uvicorn_args,
            ],
            cwd=ROOT,
            env=workspace.env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, log_path)
    headers = {"Host": probe_host} if probe_host else {}
    try:
        wait_for(lambda: _up(server, headers), 120, "the API server")
    except TimeoutError:
        server.stop()
        raise AssertionError("server did not start:\n" + log_path.read_text()) from None
    return server


def _up(server: Server, headers: dict[str, str]) -> bool:
    if server.process.poll() is not None:
        raise AssertionError("server exited:\n" + server.log_path.read_text())
    return httpx.get(server.url + "/health", headers=headers, timeout=2).status_code == 200


def make_workspace(root: Path) -> Workspace:
    migrate(f"sqlite:///{root / 'app.db'}")
    return Workspace(root)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server with JSON logs for a module's tests; they share its metrics and log."""
    workspace = make_workspace(tmp_path_factory.mktemp("ops"))
    running = start_server(workspace, probe_host="attacker.example:666")
    yield running
    running.stop()


@pytest.fixture
def serve(workspace: Workspace) -> Iterator:
    """`server = serve(*uvicorn_args, **env)`: a server on the workspace, stopped after the
    test."""
    servers: list[Server] = []

    def start(*uvicorn_args: str, **env: str) -> Server:
        servers.append(start_server(workspace, uvicorn_args=uvicorn_args, **env))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@dataclass
class Owner:
    http: httpx.Client
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kw) -> httpx.Response:
        return self.http.get(path, headers=self.headers, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.http.post(path, headers=self.headers, **kw)

    def create_chatbot(self) -> dict:
        r = self.post("/api/chatbots", json={"name": "Ops bot"})
        assert r.status_code == 201, r.text
        return r.json()

    def upload(self, chatbot_id: str, filename: str, data: bytes) -> dict:
        r = self.post(f"/api/upload/{chatbot_id}", files={"file": (filename, data, "text/plain")})
        assert r.status_code == 202, r.text
        return r.json()[0]

    def wait_for_document(
        self, document_id: str, status: str, timeout: float = INGESTION_TIMEOUT
    ) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            doc = self.get(f"/api/documents/{document_id}").json()
            if doc["status"] == status:
                return doc
            assert doc["status"] != "failed", doc
            time.sleep(0.2)
        raise AssertionError(f"document {document_id} not {status} within {timeout}s: {doc}")


def register_owner(url: str) -> Owner:
    http = httpx.Client(base_url=url, timeout=60)
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    r = http.post(
        "/auth/register",
        json={"email": email, "password": "correct horse battery", "customer_name": "Ops"},
    )
    assert r.status_code == 201, r.text
    return Owner(http, r.json()["access_token"])
