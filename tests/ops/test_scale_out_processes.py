"""The scaled-out deployment of the README, every part a process of its own: two API processes
(uvicorn), two Celery workers, a Chroma server, PostgreSQL, and rate limits kept in Redis.

One customer's questions are answered by both API processes while another customer's documents
ingest on the workers, and a secret key's rate limit holds across the two processes.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import create_engine

from tests.conftest import _reset_postgres, migrate
from tests.ops.conftest import (
    INGESTION_TIMEOUT,
    LOG_TIMEOUT,
    Server,
    Workspace,
    register_owner,
    start_server,
)
from tests.servers import chroma_server, start_celery_worker, wait_for

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PER_KEY = 8  # RATE_LIMIT_PUBLIC per minute
POLICY = (
    "Returns are accepted within 30 days of delivery. Refunds go back to the original payment "
    "method within five business days.\n\nShipping is free for orders above 50 euros.\n"
)


def handbook(n: int) -> bytes:
    """A document of ~100 chunks: several seconds of embedding on two cores."""
    rules = [
        f"Rule {i} of handbook {n}: section {i} explains procedure {i * n}. " * 3
        for i in range(100)
    ]
    return "\n\n".join(rules).encode()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[list[Server], list[subprocess.Popen]]]:
    database_url = os.environ.get("TEST_DATABASE_URL")
    if not database_url:
        pytest.skip(
            "needs PostgreSQL (TEST_DATABASE_URL): two API processes and two workers share one "
            "database, which the embedded SQLite file is not made for"
        )
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.ConnectionError:
        pytest.fail(f"Redis does not answer at {REDIS_URL}")
    engine = create_engine(database_url)
    _reset_postgres(engine)
    engine.dispose()
    migrate(database_url)
    workspace = Workspace(tmp_path)
    servers: list[Server] = []
    workers: list[subprocess.Popen] = []
    with chroma_server(tmp_path / "chroma") as port:
        env = {
            "DATABASE_URL": database_url,
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(port),
            "CELERY_BROKER_URL": REDIS_URL,
            "RATE_LIMIT_STORAGE_URI": REDIS_URL,
            "RATE_LIMIT_PUBLIC": f"{PER_KEY}/minute",
            "LOG_FORMAT": "text",
            # the customers here ask through secret keys at once, as after verifying their
            # address (tests/api/test_email_verification.py tests what waits on it)
            "REQUIRE_EMAIL_VERIFICATION": "false",
        }
        try:
            for _ in range(2):
                servers.append(start_server(workspace, **env))
            for n in range(2):
                workers.append(start_celery_worker(workspace.env(**env), tmp_path / f"w{n}.log"))
            yield servers, workers
        finally:
            for server in servers:
                server.stop()
            for worker in workers:
                worker.terminate()
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()


def ask(server: Server, bot: dict, question: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/public/{bot['id']}/query",
        json={"question": question},
        headers={"X-API-Key": bot["secret_key"]},
        timeout=60,
    )


def test_two_api_processes_answer_one_customer_while_workers_ingest_another(
    deployment, tmp_path: Path
) -> None:
    servers, _workers = deployment
    first, second = servers
    a = register_owner(first.url)
    a_bot = a.create_chatbot()
    policy = a.upload(a_bot["id"], "policy.txt", POLICY.encode())
    a.wait_for_document(policy["id"], "ready")

    b = register_owner(second.url)
    b_bot = b.create_chatbot()
    b_docs = [b.upload(b_bot["id"], f"handbook-{n}.txt", handbook(n)) for n in range(4)]

    answered_during_ingestion = {first.url: 0, second.url: 0}
    deadline = time.monotonic() + INGESTION_TIMEOUT
    asked = 0
    while time.monotonic() < deadline:
        states = [b.get(f"/api/documents/{d['id']}").json()["status"] for d in b_docs]
        assert "failed" not in states, states
        if all(state == "ready" for state in states):
            break
        if "processing" in states and asked < PER_KEY - 2:
            server = servers[asked % 2]
            r = ask(server, a_bot, "How long do refunds take?")
            assert r.status_code == 200, r.text
            assert r.json()["sources"][0]["document_id"] == policy["id"]
            # still ingesting when the answer came back: the two overlapped
            still = [b.get(f"/api/documents/{d['id']}").json()["status"] for d in b_docs]
            if "processing" in still:
                answered_during_ingestion[server.url] += 1
            asked += 1
        time.sleep(0.3)
    else:
        raise AssertionError(f"customer B's documents did not finish: {states}")
    assert all(answered_during_ingestion.values()), answered_during_ingestion
    # both workers took part in B's ingestion (prefetch 1: a busy worker takes no second task);
    # a worker logs its task's success once the task has returned, after the document is ready
    for n in range(2):
        log = tmp_path / f"w{n}.log"
        wait_for(lambda log=log: "succeeded" in log.read_text(), LOG_TIMEOUT, f"worker {n}'s task")

    limited = a.create_chatbot()  # a fresh key: its limit is counted from zero
    codes = [ask(servers[i % 2], limited, "Shipping costs?").status_code for i in range(PER_KEY)]
    assert codes == [200] * PER_KEY
    over = ask(servers[PER_KEY % 2], limited, "Shipping costs?")
    assert over.status_code == 429, over.text
    assert ask(servers[(PER_KEY + 1) % 2], limited, "Shipping costs?").status_code == 429
