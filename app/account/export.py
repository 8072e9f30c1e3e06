"""An account's data as one ZIP: what it told us, what it uploaded and what its chatbots said.

Every read goes through the domain's repository with the owner's subject, so an export holds
the customer's rows and no other's. The archive is written to a temporary file, not to memory
(uploads can be large), and history is read a batch at a time; the route streams the file and
removes it once sent. `manifest.json` says what is inside, with counts, and which uploaded
files were missing on disk (listed, not a failure: the rest is still the customer's).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from app.analytics.repository import FeedbackRepository
from app.auth.models import User
from app.auth.repository import UserRepository
from app.billing.models import Invoice, UsageRecord
from app.billing.repository import InvoiceRepository, UsageRepository
from app.chat.models import ChatMessage, ChatSession, Feedback
from app.chat.repository import ChatMessageRepository, ChatSessionRepository
from app.chatbots.models import Chatbot
from app.chatbots.repository import ChatbotRepository
from app.core.config import Settings
from app.core.database import utcnow
from app.core.subjects import UserSubject
from app.customers.models import Customer
from app.customers.repository import CustomerRepository
from app.documents import storage
from app.documents.models import Document
from app.documents.repository import DocumentRepository
from app.sources.models import WebsiteSource
from app.sources.repository import WebsiteSourceRepository

# raised when the archive's layout or a file's shape changes in a way a reader must know
FORMAT_VERSION = 1
USAGE_COLUMNS = (
    "created_at",
    "chatbot_id",
    "session_id",
    "message_id",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
)
CONTENTS = {
    "customer.json": "the account: name, contact, plan, billing details, chat retention",
    "users.json": "the people who sign in, with their roles (no passwords)",
    "chatbots.json": "chatbots with their settings, allowed websites and API keys "
    "(prefix, kind and dates only: a key's secret is never stored)",
    "documents.json": "every document's metadata, and where its file is in this archive",
    "files/": "the documents' files as stored: files/<chatbot id>/<document id>-<filename>",
    "website_sources.json": "websites the chatbots read",
    "conversations.jsonl": "one conversation per line, with its messages and their ratings",
    "usage.csv": "one line per answered question (the unit of billing)",
    "invoices.json": "invoices with their lines",
}


@dataclass(frozen=True)
class Archive:
    path: Path
    filename: str


@dataclass
class _Manifest:
    counts: dict[str, int] = field(default_factory=dict)
    missing_files: list[dict[str, str]] = field(default_factory=list)


def build(db: Session, settings: Settings, subject: UserSubject) -> Archive:
    """The customer's export in a temporary ZIP file, which the caller removes once sent."""
    customer = CustomerRepository(db).of(subject)
    now = utcnow()
    handle, name = tempfile.mkstemp(prefix="account-export-", suffix=".zip")
    os.close(handle)
    path = Path(name)
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_all(archive, db, settings, subject, customer, now)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Archive(path, f"{slug(customer.name)}-export-{now.date().isoformat()}.zip")


def slug(name: str) -> str:
    """`Café Olé GmbH` -> `cafe-ole-gmbh`: a file name any system accepts."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60] or "account"


def _write_all(
    archive: zipfile.ZipFile,
    db: Session,
    settings: Settings,
    subject: UserSubject,
    customer: Customer,
    now: datetime,
) -> None:
    manifest = _Manifest()
    _json(archive, "customer.json", _customer(customer))
    users = UserRepository(db).list(subject, order_by=User.created_at)
    _json(archive, "users.json", [_user(u) for u in users])
    manifest.counts["users"] = len(users)
    chatbots = ChatbotRepository(db).list_with_keys(subject)
    _json(archive, "chatbots.json", [_chatbot(c) for c in chatbots])
    manifest.counts["chatbots"] = len(chatbots)
    _documents(archive, db, settings, subject, manifest)
    sources = WebsiteSourceRepository(db).list(subject, order_by=WebsiteSource.created_at)
    _json(archive, "website_sources.json", [_source(s) for s in sources])
    manifest.counts["website_sources"] = len(sources)
    emails = {u.id: u.email for u in users}
    _conversations(archive, db, subject, emails, manifest)
    _usage(archive, db, subject, manifest)
    invoices = InvoiceRepository(db).list(subject, order_by=Invoice.period)
    _json(archive, "invoices.json", [_invoice(i) for i in invoices])
    manifest.counts["invoices"] = len(invoices)
    _json(
        archive,
        "manifest.json",
        {
            "format_version": FORMAT_VERSION,
            "generated_at": now,
            "customer": {"id": customer.id, "name": customer.name},
            "contents": CONTENTS,
            "counts": manifest.counts,
            "missing_files": manifest.missing_files,
        },
    )


def _documents(
    archive: zipfile.ZipFile,
    db: Session,
    settings: Settings,
    subject: UserSubject,
    manifest: _Manifest,
) -> None:
    """documents.json, and each document's file read from storage into files/."""
    listed, files = [], 0
    for batch in DocumentRepository(db).batches(subject, order_by=Document.created_at):
        for doc in batch:
            entry: str | None = f"files/{doc.chatbot_id}/{doc.id}-{_entry_name(doc.filename)}"
            try:
                archive.write(storage.document_path(settings, doc), entry)
                files += 1
            except FileNotFoundError:
                manifest.missing_files.append(
                    {"document_id": str(doc.id), "filename": doc.filename, "entry": str(entry)}
                )
                entry = None
            listed.append(_document(doc, entry))
    _json(archive, "documents.json", listed)
    manifest.counts["documents"] = len(listed)
    manifest.counts["files"] = files


def _conversations(
    archive: zipfile.ZipFile,
    db: Session,
    subject: UserSubject,
    emails: dict[UUID, str],
    manifest: _Manifest,
) -> None:
    sessions = messages = 0
    with _text(archive, "conversations.jsonl") as out:
        for batch in ChatSessionRepository(db).batches(subject, order_by=ChatSession.created_at):
            for conversation in _with_messages(db, subject, batch, emails):
                out.write(_dumps(conversation, indent=None) + "\n")
                sessions += 1
                messages += len(conversation["messages"])
    manifest.counts["conversations"] = sessions
    manifest.counts["messages"] = messages


def _with_messages(
    db: Session, subject: UserSubject, sessions: Sequence[ChatSession], emails: dict[UUID, str]
) -> Iterator[dict[str, Any]]:
    """The sessions of one batch with their messages and ratings: two reads per batch."""
    ids = [s.id for s in sessions]
    messages = ChatMessageRepository(db).list(
        subject, ChatMessage.session_id.in_(ids), order_by=ChatMessage.created_at
    )
    ratings = {
        f.message_id: f
        for f in FeedbackRepository(db).list(
            subject, Feedback.message_id.in_([m.id for m in messages])
        )
    }
    by_session: dict[UUID, list[dict[str, Any]]] = {i: [] for i in ids}
    for message in messages:
        by_session[message.session_id].append(_message(message, ratings.get(message.id)))
    for session in sessions:
        yield {
            "id": session.id,
            "chatbot_id": session.chatbot_id,
            "channel": session.channel,
            "user": emails.get(session.user_id) if session.user_id else None,
            "created_at": session.created_at,
            "last_message_at": session.last_message_at,
            "messages": by_session[session.id],
        }


def _usage(
    archive: zipfile.ZipFile, db: Session, subject: UserSubject, manifest: _Manifest
) -> None:
    count = 0
    with _text(archive, "usage.csv") as out:
        writer = csv.writer(out)
        writer.writerow(USAGE_COLUMNS)
        for batch in UsageRepository(db).batches(subject, order_by=UsageRecord.created_at):
            for record in batch:
                writer.writerow([_plain(getattr(record, column)) for column in USAGE_COLUMNS])
                count += 1
    manifest.counts["usage_records"] = count


# --- what each row says in the export -----------------------------------------------------------


def _customer(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "contact_email": customer.contact_email,
        "plan": customer.plan,
        "billing_info": customer.billing_info or {},
        "retention_days": customer.retention_days,
        "created_at": customer.created_at,
    }


def _user(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "role": user.role,
        "created_at": user.created_at,
        "email_verified_at": user.email_verified_at,
    }


def _chatbot(chatbot: Chatbot) -> dict[str, Any]:
    return {
        "id": chatbot.id,
        "name": chatbot.name,
        "description": chatbot.description,
        "system_prompt": chatbot.system_prompt,
        "settings": chatbot.settings or {},
        "allowed_origins": chatbot.allowed_origins or [],
        "created_at": chatbot.created_at,
        "updated_at": chatbot.updated_at,
        "api_keys": [
            {
                "kind": key.kind,
                "prefix": key.prefix,
                "created_at": key.created_at,
                "last_used_at": key.last_used_at,
                "revoked_at": key.revoked_at,
            }
            for key in sorted(chatbot.api_keys, key=lambda k: k.created_at)
        ],
    }


def _document(doc: Document, entry: str | None) -> dict[str, Any]:
    return {
        "id": doc.id,
        "chatbot_id": doc.chatbot_id,
        "filename": doc.filename,
        "kind": doc.kind,
        "origin": doc.origin,
        "url": doc.url,
        "status": doc.status,
        "size_bytes": doc.size_bytes,
        "chunks": doc.chunk_count,
        "created_at": doc.created_at,
        "processed_at": doc.processed_at,
        "file": entry,
    }


def _source(source: WebsiteSource) -> dict[str, Any]:
    return {
        "id": source.id,
        "chatbot_id": source.chatbot_id,
        "url": source.url,
        "status": source.status,
        "pages_found": source.pages_found,
        "pages_done": source.pages_done,
        "pages_failed": source.pages_failed,
        "pages_skipped": source.pages_skipped,
        "error": source.error,
        "last_crawled_at": source.last_crawled_at,
        "created_at": source.created_at,
    }


def _message(message: ChatMessage, rating: Feedback | None) -> dict[str, Any]:
    return {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "unanswered": message.unanswered,
        "sources": message.sources or [],
        "provider": message.provider,
        "model": message.model,
        "input_tokens": message.input_tokens,
        "output_tokens": message.output_tokens,
        "created_at": message.created_at,
        "feedback": None
        if rating is None
        else {"rating": rating.rating, "comment": rating.comment, "created_at": rating.created_at},
    }


def _invoice(invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_number": invoice.invoice_number,
        "period": invoice.period,
        "status": invoice.status,
        "currency": invoice.currency,
        "plan": invoice.plan,
        "input_tokens": invoice.input_tokens,
        "output_tokens": invoice.output_tokens,
        "amount": invoice.amount,
        "billed_to": invoice.billed_to,
        "issued_at": invoice.issued_at,
        "due_date": invoice.due_date,
        "created_at": invoice.created_at,
        "lines": [
            {
                "position": line.position,
                "chatbot_id": line.chatbot_id,
                "description": line.description,
                "kind": line.kind,
                "tokens": line.tokens,
                "price_per_1k": line.price_per_1k,
                "amount": line.amount,
            }
            for line in invoice.lines
        ],
    }


# --- writing -----------------------------------------------------------------------------------


def _entry_name(filename: str) -> str:
    """A document's name as one path segment: a web page's title may hold a slash."""
    return re.sub(r"[\\/\x00-\x1f]", "_", filename).strip(". ") or "file"


def _plain(value: Any) -> Any:
    """JSON's and CSV's spelling of what the rows hold: ISO dates, exact decimals as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def _dumps(value: Any, indent: int | None = 2) -> str:
    return json.dumps(value, default=_plain, ensure_ascii=False, indent=indent)


def _json(archive: zipfile.ZipFile, name: str, value: Any) -> None:
    archive.writestr(name, _dumps(value) + "\n")


@contextmanager
def _text(archive: zipfile.ZipFile, name: str) -> Iterator[io.TextIOWrapper]:
    """A text stream into one archive entry, written as it goes."""
    with (
        archive.open(name, "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as out,
    ):
        yield out
