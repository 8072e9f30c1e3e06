"""Where uploaded files live: UPLOAD_DIR/{customer_id}/{chatbot_id}/{document_id}.{kind}.

Names are generated from ids only; a client's filename never reaches the file system.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from app.core.config import Settings
from app.documents.models import Document


def chatbot_dir(settings: Settings, customer_id: uuid.UUID, chatbot_id: uuid.UUID) -> Path:
    return settings.upload_dir / str(customer_id) / str(chatbot_id)


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


def remove_chatbot(settings: Settings, customer_id: uuid.UUID, chatbot_id: uuid.UUID) -> None:
    shutil.rmtree(chatbot_dir(settings, customer_id, chatbot_id), ignore_errors=True)
