"""What PostgreSQL's row-level security costs a question, side by side in one run.

    .venv/bin/python scripts/bench_rls.py [--server postgresql+psycopg2://postgres@127.0.0.1:5432]
                                          [--questions 300] [--rounds 3]

Creates the database `bench_rls` on the server (dropped first), migrates it as the owner,
creates a role granted only DML (docs/POSTGRESQL.md), and serves the product in-process twice
on it: as the owner (the policies do not bind it; the tenancy settings are still sent) and as
the DML role (every statement of a question passes the policies). Each asks the same public
questions of a one-document chatbot, extractive answerer, in interleaved rounds. Reported: mean
and p50 latency, SQL statements and tenancy settings sent per question, and what one settings
statement costs alone (the code before row-level security sent none).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, make_url, text
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.bench_common import machine, paragraph, set_plan  # noqa: E402

ROLE = "rag_app_bench"
DATABASE = "bench_rls"
QUESTIONS = [
    "How do I reset the pump filter?",
    "What does the warranty cover?",
    "How long does delivery take?",
    "Wie wechsle ich die Batterie?",
]


def prepare_database(server: str) -> tuple[str, str]:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
        conn.execute(
            text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') "
                f"THEN CREATE ROLE {ROLE} LOGIN; END IF; END $$"
            )
        )
    admin.dispose()
    owner_url = f"{server}/{DATABASE}"
    from tests.conftest import migrate

    migrate(owner_url)
    owner = create_engine(owner_url)
    with owner.begin() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {ROLE}"))
        conn.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}")
        )
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}"))
    owner.dispose()
    app_url = make_url(owner_url).set(username=ROLE, password=None).render_as_string(False)
    return owner_url, app_url


class Variant:
    def __init__(self, label: str, url: str, root: Path) -> None:
        from fastapi.testclient import TestClient

        from app.core.config import Settings
        from app.main import create_app

        settings = Settings(
            env="test",
            database_url=url,
            secret_key="bench-" + "x" * 40,
            upload_dir=root / label / "uploads",
            vectorstore_dir=root / label / "vectors",
            llm_provider="extractive",
            rate_limit_public="100000/minute",
            rate_limit_public_per_ip="100000/minute",
            signups_per_ip="100000/hour",
        )
        self.label = label
        self.app = create_app(settings)
        self.client = TestClient(self.app).__enter__()
        self.statements = 0
        self.settings_sent = 0
        event.listen(self.app.state.engine, "before_cursor_execute", self._count)
        self.latencies: list[float] = []
        self.asked = 0
        self.bot, self.key = self._ready_bot()

    def _count(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.statements += 1
        self.settings_sent += "set_config('app.customer_id'" in statement

    def _ready_bot(self) -> tuple[str, str]:
        c = self.client
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "password": "correct horse battery", "customer_name": "Bench"}
        assert c.post("/auth/register", json=body).status_code == 201
        token = c.post("/auth/login", json={"email": email, "password": body["password"]})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        bot = c.post("/api/chatbots", json={"name": "Bench"}, headers=headers).json()
        set_plan(self.app.state.sessionmaker, "pro")
        import random

        text_ = "\n\n".join(paragraph(random.Random(n)) for n in range(60))
        files = [("file", ("manual.txt", text_.encode()))]
        [doc] = c.post(f"/api/upload/{bot['id']}", files=files, headers=headers).json()
        deadline = time.monotonic() + 600
        while c.get(f"/api/documents/{doc['id']}", headers=headers).json()["status"] != "ready":
            assert time.monotonic() < deadline, "the document was not ingested"
            time.sleep(0.2)
        return bot["id"], bot["secret_key"]

    def ask(self, n: int) -> None:
        before, settings_before = self.statements, self.settings_sent
        for i in range(n):
            question = QUESTIONS[i % len(QUESTIONS)]
            start = time.perf_counter()
            r = self.client.post(
                f"/api/public/{self.bot}/query",
                json={"question": question},
                headers={"X-API-Key": self.key},
            )
            self.latencies.append(time.perf_counter() - start)
            assert r.status_code == 200, r.text
        self.asked += n
        self.per_question = (self.statements - before) / n
        self.settings_per_question = (self.settings_sent - settings_before) / n

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    print(machine())
    owner_url, app_url = prepare_database(args.server)
    with tempfile.TemporaryDirectory(prefix="bench-rls-") as tmp:
        variants = [
            Variant("owner (policies not binding)", owner_url, Path(tmp)),
            Variant("DML role (policies binding)", app_url, Path(tmp)),
        ]
        per_round = max(1, args.questions // args.rounds)
        with tqdm(total=per_round * args.rounds * len(variants), unit="question") as bar:
            for _ in range(args.rounds):
                for variant in variants:
                    variant.ask(per_round)
                    bar.update(per_round)
        for variant in variants:
            variant.close()

    base = statistics.mean(variants[0].latencies)
    print("\n| | mean | p50 | statements / question | of which settings | mean / owner's |")
    print("|---|---:|---:|---:|---:|---:|")
    for v in variants:
        mean = statistics.mean(v.latencies)
        print(
            f"| {v.label} | {mean * 1000:.2f} ms | {statistics.median(v.latencies) * 1000:.2f} ms "
            f"| {v.per_question:.1f} | {v.settings_per_question:.1f} | {mean / base:.3f} |"
        )
    print(f"\none settings statement alone: {settings_statement_seconds(app_url) * 1e6:.0f} us")


def settings_statement_seconds(url: str, n: int = 2000) -> float:
    from app.core.tenancy import _SET

    engine = create_engine(url)
    with engine.connect() as conn:
        start = time.perf_counter()
        for _ in range(n):
            conn.execute(_SET, {"customer": str(uuid.uuid4()), "bypass": "off"})
        seconds = (time.perf_counter() - start) / n
    engine.dispose()
    return seconds


if __name__ == "__main__":
    main()
