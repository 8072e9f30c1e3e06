"""Where uploaded files live: UPLOAD_DIR/{customer_id}/{chatbot_id}/{document_id}.{kind}.

Names are generated from ids only; a client's filename never reaches the file system.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from app.core.config import Settings


def customer_dir(settings: Settings, customer_id: uuid.UUID) -> Path:
    return settings.upload_dir / str(customer_id)


def chatbot_dir(settings: Settings, customer_id: uuid.UUID, chatbot_id: uuid.UUID) -> Path:
    return customer_dir(settings, customer_id) / str(chatbot_id)


def remove_chatbot_files(settings: Settings, customer_id: uuid.UUID, chatbot_id: uuid.UUID) -> None:
    shutil.rmtree(chatbot_dir(settings, customer_id, chatbot_id), ignore_errors=True)


def remove_customer_files(settings: Settings, customer_id: uuid.UUID) -> None:
    """Every file of the customer, of every chatbot (a deleted account)."""
    shutil.rmtree(customer_dir(settings, customer_id), ignore_errors=True)
