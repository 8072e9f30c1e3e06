#!/usr/bin/env python
"""Time to first streamed byte: does the stream pass the LLM's first token straight through?

    .venv/bin/python scripts/bench_stream.py [--requests 30] [--first-token-ms 300]

The fake LLM server (tests/fakes/llm_server.py, in a process of its own) sends its headers at
once and its first delta `--first-token-ms` later, and notes when each request arrived and when
its first delta left; the API is served by uvicorn in this process and asked for SSE answers
from a client process that notes when `sources` and the first `delta` arrived. All timestamps
are time.monotonic(), one clock for every process of the machine.
Targets: the first `delta` reaches the client within 30 ms of the LLM's first token; `sources`
reach it before the LLM is called.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.queues import Queue
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from tqdm import tqdm  # noqa: E402

from ingestion import Chunk  # noqa: E402
from scripts.bench_common import (  # noqa: E402
    machine,
    percentile,
    questions,
    register_chatbot,
    sentence,
    set_plan,
)


def serve_slow_llm(first_token_delay: float, out: Queue) -> None:
    """Runs in a process of its own: the fake LLM, whose timings go back through `out` as
    (request arrived, first delta sent) pairs."""
    from tests.fakes.llm_server import Behaviour, FakeLLMServer

    fake = FakeLLMServer(default=Behaviour(first_token_delay=first_token_delay)).start()
    out.put(fake.base_url)
    sent = 0
    while True:
        time.sleep(0.01)
        while sent < len(fake.first_tokens):
            out.put((fake.requests[sent].received_at, fake.first_tokens[sent]))
            sent += 1


def streamed(url: str, key: str, qs: list[str]) -> list[dict[str, float]]:
    """Runs in the client process: one SSE answer at a time, noting when each event arrived."""
    timings = []
    with httpx.Client(timeout=60) as client:
        for q in qs:
            seen: dict[str, float] = {"sent": time.monotonic()}
            with client.stream(
                "POST", url, json={"question": q, "stream": True}, headers={"X-API-Key": key}
            ) as r:
                assert r.status_code == 200, r.read()
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        seen.setdefault(line[len("event: ") :], time.monotonic())
            assert "error" not in seen, seen
            timings.append(seen)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--first-token-ms", type=float, default=300)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from app.core.vectors import embedder_for, vector_store_for
    from app.main import create_app
    from scripts.bench_common import temporary_settings
    from tests.live import serve

    spawn = multiprocessing.get_context("spawn")
    out: Queue = spawn.Queue()
    fake_llm = spawn.Process(
        target=serve_slow_llm, args=(args.first_token_ms / 1000, out), daemon=True
    )
    fake_llm.start()
    llm_url = out.get(timeout=60)
    with temporary_settings(
        llm_provider="fireworks",
        fireworks_api_key="bench",
        fireworks_base_url=f"{llm_url}/inference",
        retrieval_score_threshold=0.0,
        log_level="WARNING",
    ) as settings:
        app = create_app(settings)
        with TestClient(app) as client:
            _, bot = register_chatbot(client)
        set_plan(app.state.sessionmaker, "pro")
        embedder, store = embedder_for(settings), vector_store_for(settings)
        rng = random.Random(3)
        texts = [f"{sentence(rng)} {sentence(rng)}" for _ in range(64)]
        chunks = [Chunk(i, t, {}) for i, t in enumerate(texts)]
        vectors = embedder.embed_passages(texts)
        store.upsert(bot["id"], embedder, str(uuid.uuid4()), chunks, vectors, {"filename": "a"})

        qs = questions(args.requests + 3)
        with serve(app) as base_url, ProcessPoolExecutor(1) as clients:
            url = f"{base_url}/api/public/{bot['id']}/query"
            clients.submit(streamed, url, bot["secret_key"], qs[:3]).result()  # warm up
            timings = []
            for q in tqdm(qs[3:], desc="streamed answers", unit="q"):
                timings += clients.submit(streamed, url, bot["secret_key"], [q]).result()
    llm = [out.get(timeout=10) for _ in range(args.requests + 3)][3:]
    fake_llm.terminate()

    relay = [t["delta"] - first for t, (_, first) in zip(timings, llm, strict=True)]
    lead = [called - t["sources"] for t, (called, _) in zip(timings, llm, strict=True)]
    to_sources = [t["sources"] - t["sent"] for t in timings]
    to_delta = [t["delta"] - t["sent"] for t in timings]
    ms = 1000
    print(f"\nmachine: {machine()}; embedder: {embedder.name}; {args.requests} streamed answers")
    print(f"fake LLM: first token {args.first_token_ms:.0f} ms after the request")
    print(f"{'':52}{'min ms':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    rows = [
        ("request sent -> sources received", to_sources),
        ("request sent -> first delta received", to_delta),
        ("sources received -> LLM called (> 0: sources first)", lead),
        ("LLM's first token -> first delta received", relay),
    ]
    for label, values in rows:
        print(
            f"{label:52}{min(values) * ms:9.1f}{percentile(values, 50) * ms:9.1f}"
            f"{percentile(values, 95) * ms:9.1f}{max(values) * ms:9.1f}"
        )
    early = sum(value > 0 for value in lead)
    print(
        f"first delta within 30 ms of the LLM's first token: {sum(r <= 0.030 for r in relay)}"
        f"/{len(relay)}; sources before the LLM was called: {early}/{len(lead)}"
    )


if __name__ == "__main__":
    main()
