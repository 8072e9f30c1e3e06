#!/usr/bin/env python
"""Ingest a folder of files into a chatbot from the command line.

    .venv/bin/python scripts/ingest.py --chatbot <chatbot-id> path/to/folder [--recursive]

Files are validated and stored exactly as uploads through the API are, then processed here, in
this process, with a progress bar; a summary says what failed and why. With the embedded Chroma
store (no CHROMA_HOST), stop the API first: only one process may open that store.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm import tqdm  # noqa: E402

import app.models  # noqa: E402, F401 - registers every mapper
from app.chatbots.repository import ChatbotRepository  # noqa: E402
from app.core.config import get_settings  # noqa: E402
from app.core.database import make_engine, make_sessionmaker, session_scope  # noqa: E402
from app.core.errors import AppError  # noqa: E402
from app.core.subjects import OperatorSubject  # noqa: E402
from app.documents import service  # noqa: E402
from app.documents.jobs import process_document  # noqa: E402


class _NoQueue:
    """Documents are processed right here, so nothing is enqueued."""

    def enqueue(self, document_id: uuid.UUID, customer_id: uuid.UUID) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--chatbot", required=True, type=uuid.UUID, help="chatbot id")
    parser.add_argument("--recursive", action="store_true", help="descend into subfolders")
    args = parser.parse_args()

    settings = get_settings()
    factory = make_sessionmaker(make_engine(settings.database_url))
    with session_scope(factory, bypass="operator script ingest") as db:
        customer_id = ChatbotRepository(db).customer_of(args.chatbot)
        if customer_id is None:
            parser.error(f"no chatbot {args.chatbot}")
        subject = OperatorSubject(customer_id)
        chatbot = ChatbotRepository(db).get(subject, args.chatbot)
    pattern = "**/*" if args.recursive else "*"
    files = sorted(p for p in args.folder.glob(pattern) if p.is_file())
    if not files:
        parser.error(f"no files in {args.folder}")

    outcomes: dict[str, list[str]] = {"ready": [], "duplicate": [], "rejected": [], "failed": []}
    with tqdm(files, unit="file", desc="files") as bar:
        for path in bar:
            bar.set_postfix_str(path.name[:40])
            incoming = service.IncomingFile(path.name, path.read_bytes())
            try:
                with session_scope(factory, bypass="operator script ingest") as db:
                    [accepted] = service.upload(
                        db, settings, _NoQueue(), subject, chatbot, [incoming]
                    )
            except AppError as exc:
                outcomes["rejected"].append(f"{path}: {exc.message}")
                continue
            if accepted.duplicate and accepted.status == "ready":
                outcomes["duplicate"].append(str(path))
                continue
            with tqdm(total=0, unit="chunk", desc=path.name[:30], leave=False) as chunks:

                def progress(done: int, total: int, chunks: tqdm = chunks) -> None:
                    chunks.total = total
                    chunks.n = done
                    chunks.refresh()

                status = process_document(factory, settings, accepted.id, progress)
            if status == "ready":
                outcomes["ready"].append(str(path))
            else:
                with session_scope(factory, bypass="operator script ingest") as db:
                    reason = service.get_document(db, subject, accepted.id).error or status
                outcomes["failed"].append(f"{path}: {reason}")

    print(
        f"\n{len(outcomes['ready'])} ingested, {len(outcomes['duplicate'])} already there, "
        f"{len(outcomes['rejected'])} rejected, {len(outcomes['failed'])} failed"
    )
    for kind in ("rejected", "failed"):
        for line in outcomes[kind]:
            print(f"  {kind}: {line}")
    return 1 if outcomes["rejected"] or outcomes["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
