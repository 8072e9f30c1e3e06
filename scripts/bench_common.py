"""Shared by the benchmarks: a throwaway app on temporary storage, and a generated corpus.

Importing it imports nothing of the product (bench_query imports it before choosing which
checkout's `app` to load)."""

from __future__ import annotations

import os
import platform
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.core.config import Settings

WORDS = (
    "pump filter pressure valve motor warranty return refund shipping invoice account order "
    "delivery battery charger cable screen setting reset password login payment discount "
    "voucher manual guide install update firmware device sensor bracket housing seal gasket "
    "temperature schedule maintenance cleaning replacement spare part kit model series size"
).split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int = 6) -> str:
    return " ".join(sentence(rng) for _ in range(sentences))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


@contextmanager
def temporary_settings(**overrides: object) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        root = Path(tmp)
        values: dict[str, object] = {
            "env": "test",
            "database_url": f"sqlite:///{root / 'bench.db'}",
            "secret_key": "bench-" + "x" * 40,
            "upload_dir": root / "uploads",
            "vectorstore_dir": root / "vectors",
            "rate_limit_public": "100000/minute",
            "rate_limit_public_per_ip": "100000/minute",
        }
        values.update(overrides)
        from app.core.config import Settings

        settings = Settings(**values)  # type: ignore[arg-type]
        from tests.conftest import migrate

        migrate(settings.database_url)
        yield settings


def register_chatbot(client: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Register a customer through the API and create a chatbot; (auth headers, chatbot)."""
    token = client.post(
        "/auth/register",
        json={"email": "bench@example.com", "password": "benchmark", "customer_name": "Bench"},
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    return auth, client.post("/api/chatbots", json={"name": "bench"}, headers=auth).json()


def questions(n: int) -> list[str]:
    """n questions made of the corpus words, the same in every run."""
    rng = random.Random(7)
    return [
        f"How do I {rng.choice(WORDS)} the {rng.choice(WORDS)} {rng.choice(WORDS)}?"
        for _ in range(n)
    ]


def percentile(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def sequential_latencies(url: str, key: str, qs: list[str]) -> list[float]:
    """One request at a time (run in a client process of its own)."""
    import httpx

    latencies = []
    with httpx.Client(timeout=60) as client:
        for q in qs:
            start = time.perf_counter()
            r = client.post(url, json={"question": q}, headers={"X-API-Key": key})
            latencies.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text
    return latencies


def serve_fake_llm(base_urls: Queue) -> None:
    """Runs in a process of its own, as the real LLM service runs on machines of its own: its
    work is in the endpoint's latency, but does not contend with the server for the GIL."""
    from tests.fakes.llm_server import FakeLLMServer

    base_urls.put(FakeLLMServer().start().base_url)
    threading.Event().wait()


def set_plan(factory: Any, plan: str, customer_id: Any | None = None) -> None:
    """Moves one customer (by default every customer) to `plan`: benchmarks ask more than the
    free plan allows. `factory` is the app's sessionmaker."""
    import uuid

    from app.core.database import session_scope
    from app.core.subjects import OperatorSubject
    from app.customers.repository import CustomerRepository

    with session_scope(factory, bypass="operator script bench_common") as db:
        customers = CustomerRepository(db)
        ids = [uuid.UUID(str(customer_id))] if customer_id else customers.all_ids()
        for each in ids:
            customers.set_plan(OperatorSubject(each), plan)
