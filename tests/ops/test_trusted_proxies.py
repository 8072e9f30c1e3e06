"""`scripts/start` believes X-Forwarded-For from no one unless TRUSTED_PROXIES lists the proxy:
rotating the header must not buy a client fresh rate limits."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from tests.ops.conftest import Server, Workspace, _up
from tests.servers import ROOT, free_port, wait_for


@pytest.fixture
def start(workspace: Workspace) -> Iterator:
    servers: list[Server] = []

    def run(**env: str) -> Server:
        port = free_port()
        log_path = workspace.root / f"start-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(ROOT / "scripts" / "start")],
                cwd=ROOT,
                env=workspace.env(PORT=str(port), LOGIN_FAILURES_PER_IP="5/15minutes", **env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        server = Server(f"http://127.0.0.1:{port}", port, process, log_path)
        servers.append(server)
        wait_for(lambda: _up(server, {}), 180, "scripts/start")
        return server

    yield run
    for server in servers:
        server.stop()


def _failed_logins_from_rotating_addresses(server: Server, count: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for i in range(count):
            r = http.post(
                "/auth/login",
                json={"email": f"guess-{i}@example.com", "password": "guess"},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            )
            statuses.append(r.status_code)
    return statuses


def test_forwarded_addresses_from_an_untrusted_client_are_ignored(start):
    server = start()
    statuses = _failed_logins_from_rotating_addresses(server, 8)
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3  # all counted under the socket's own address


def test_a_listed_proxy_is_believed(start):
    server = start(TRUSTED_PROXIES="127.0.0.1")
    statuses = _failed_logins_from_rotating_addresses(server, 8)
    assert statuses == [401] * 8  # each forwarded address has its own count
