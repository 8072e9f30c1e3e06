#!/usr/bin/env python
"""The lexical half of retrieval with many tenants on one SQLite node: migration 0010's index
(keyed by chatbot) against 0009's (text only), on the same rows, in one run.

    .venv/bin/python scripts/bench_lexical.py [--chatbots 2000] [--chunks 500] [--questions 20]

Fills `document_chunks` of a new database (the product's migrations) with chatbots × chunks of
real English text (150-word windows of the licence texts Debian ships), then times
`ChunkRepository.search` (the product's query, through SQLAlchemy) for questions to chatbots
picked at random: first at head, then after downgrading the index to 0009 (the old query,
reconstructed here, with the same work on each row it returns). The rows are the same; only
the index and the query differ.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import text  # noqa: E402
from tqdm import tqdm  # noqa: E402

from app.core.database import make_engine, make_sessionmaker  # noqa: E402
from app.core.subjects import OperatorSubject  # noqa: E402
from app.documents.repository import _WORD, ChunkRepository, search_terms  # noqa: E402
from scripts.bench_common import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ("/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0")
QUESTIONS = [
    "Can I distribute modified copies of the software?",
    "What does the license say about patents?",
    "Is there a warranty for the program?",
    "How do I apply these terms to my work?",
    "What happens if I violate the license?",
]
OLD_QUERY = """SELECT c.document_id, c.chunk_index, c.text, c.search_text, c.meta,
-bm25(document_chunks_fts) FROM document_chunks c
JOIN document_chunks_fts ON document_chunks_fts.rowid = c.id
WHERE document_chunks_fts MATCH :match AND c.customer_id = :customer AND c.chatbot_id = :chatbot
ORDER BY bm25(document_chunks_fts) LIMIT 20"""


def alembic(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    return cfg


def fill(path: Path, chatbots: int, chunks: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    words = re.findall(r"[a-z]+", " ".join(Path(p).read_text().lower() for p in TEXTS))
    rng = random.Random(1)
    customer = uuid.uuid4()
    bots = [uuid.uuid4() for _ in range(chatbots)]
    db = sqlite3.connect(path)  # foreign keys off: chunks without their documents' rows
    for bot in tqdm(bots, desc="chatbots", unit="bot"):
        document = uuid.uuid4().hex
        rows = []
        for i in range(chunks):
            start = rng.randrange(len(words) - 150)
            body = " ".join(words[start : start + 150])
            rows.append((bot.hex, document, i, body, body, "{}", customer.hex))
        db.executemany(
            "INSERT INTO document_chunks (chatbot_id, document_id, chunk_index, text, "
            "search_text, meta, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.commit()
    db.close()
    return customer, bots


def timed(run: Any, n: int) -> list[float]:
    seconds = []
    for i in range(n):
        start = time.perf_counter()
        run(i)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chatbots", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lexical-") as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        command.upgrade(alembic(url), "head")
        customer, bots = fill(path, args.chatbots, args.chunks)
        factory = make_sessionmaker(make_engine(url))
        subject = OperatorSubject(customer)
        rng = random.Random(2)
        picks = [(rng.choice(bots), rng.choice(QUESTIONS)) for _ in range(args.questions)]

        def new(i: int) -> None:
            bot, question = picks[i]
            with factory() as db:
                assert ChunkRepository(db).search(subject, bot, question, 20)

        def old(i: int) -> None:
            bot, question = picks[i]
            match = " OR ".join(f'"{term}"' for term in search_terms(question))
            params = {"match": match, "customer": customer.hex, "chatbot": bot.hex}
            with factory() as db:  # and what `search` does with each row
                rows = db.execute(text(OLD_QUERY), params).all()
                assert [set(_WORD.findall(row.search_text.casefold())) for row in rows]

        new(0)
        by_chatbot = timed(new, args.questions)
        started = time.perf_counter()
        command.downgrade(alembic(url), "0009")  # the text-only index, rebuilt
        rebuild = time.perf_counter() - started
        old(0)
        text_only = timed(old, args.questions)
        size = path.stat().st_size / 1e6

    total = args.chatbots * args.chunks
    print(f"\nmachine: {machine()}; {args.chatbots} chatbots x {args.chunks} chunks = {total:,}")
    print(f"database {size:,.0f} MB; rebuilding the text-only index took {rebuild:.1f} s")
    print(f"{'':40}{'p50 ms':>10}{'p95 ms':>10}")
    rows = (("index keyed by chatbot (0010)", by_chatbot), ("text only (0009)", text_only))
    for name, seconds in rows:
        p50 = statistics.median(seconds) * 1000
        p95 = statistics.quantiles(seconds, n=20)[-1] * 1000
        print(f"{name:40}{p50:10.1f}{p95:10.1f}")
    ratio = statistics.median(text_only) / statistics.median(by_chatbot)
    print(f"text only / keyed by chatbot at p50: {ratio:.1f}")


if __name__ == "__main__":
    main()
