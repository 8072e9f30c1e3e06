"""A document's file: UPLOAD_DIR/{customer_id}/{chatbot_id}/{document_id}.{kind}."""

from __future__ import annotations

from pathlib import Path

from app.core.config import Settings
from app.core.storage import chatbot_dir
from app.documents.models import Document


def document_path(settings: Settings, doc: Document) -> Path:
    return chatbot_dir(settings, doc.customer_id, doc.chatbot_id) / f"{doc.id}.{doc.kind}"


def write(settings: Settings, doc: Document, data: bytes) -> None:
    path = document_path(settings, doc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def remove(settings: Settings, doc: Document) -> None:
    document_path(settings, doc).unlink(missing_ok=True)
