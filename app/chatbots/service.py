from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from app.chatbots.models import KEY_KINDS, ApiKey, Chatbot
from app.chatbots.origins import origin_allowed, website_origin
from app.chatbots.repository import ChatbotRepository
from app.chatbots.schemas import (
    ChatbotCreate,
    ChatbotCreated,
    ChatbotOut,
    ChatbotUpdate,
    OriginCheckOut,
)
from app.core.config import Settings
from app.core.database import after_commit, utcnow
from app.core.errors import Unprocessable
from app.core.security import VISIBLE_PREFIX_LEN, generate_api_key, hash_api_key
from app.core.storage import remove_chatbot_files
from app.core.subjects import AuthSubject
from app.core.vectors import vector_store_for


def list_chatbots(db: Session, subject: AuthSubject) -> Sequence[Chatbot]:
    return ChatbotRepository(db).list_with_keys(subject)


def get_chatbot(db: Session, subject: AuthSubject, chatbot_id: uuid.UUID) -> Chatbot:
    return ChatbotRepository(db).get_with_keys(subject, chatbot_id)


def check_origin(
    db: Session, subject: AuthSubject, chatbot_id: uuid.UUID, address: str
) -> OriginCheckOut:
    chatbot = ChatbotRepository(db).get(subject, chatbot_id)
    origin = website_origin(address)
    if origin is None:
        raise Unprocessable("That is not a website address. Try one like https://shop.example.com")
    return OriginCheckOut(origin=origin, allowed=origin_allowed(chatbot, origin))


def _new_key(chatbot: Chatbot, kind: str) -> tuple[ApiKey, str]:
    raw = generate_api_key(kind)
    key = ApiKey(
        kind=kind,
        prefix=raw[:VISIBLE_PREFIX_LEN],
        key_hash=hash_api_key(raw),
        publishable_key=raw if kind == "widget" else None,
        customer_id=chatbot.customer_id,
    )
    chatbot.api_keys.append(key)
    return key, raw


def create_chatbot(db: Session, subject: AuthSubject, body: ChatbotCreate) -> ChatbotCreated:
    """A new chatbot, with its secret and widget keys in plain text: the only time they show."""
    chatbot = Chatbot(
        customer_id=subject.customer_id,
        name=body.name,
        description=body.description,
        system_prompt=body.system_prompt,
        settings=body.settings.model_dump(exclude_none=True),
        allowed_origins=body.allowed_origins,
        api_keys=[],
    )
    db.add(chatbot)
    plaintext = {kind: _new_key(chatbot, kind)[1] for kind in KEY_KINDS}
    db.flush()
    out = ChatbotOut.model_validate(chatbot)
    return ChatbotCreated(
        **out.model_dump(), secret_key=plaintext["secret"], widget_key=plaintext["widget"]
    )


def _merge_settings(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Fields sent replace the stored ones; null resets one to the server's default."""
    merged = {**current, **patch}
    if patch.get("widget") is not None:
        merged["widget"] = {**(current.get("widget") or {}), **patch["widget"]}
    return {name: value for name, value in merged.items() if value is not None}


def update_chatbot(db: Session, chatbot: Chatbot, body: ChatbotUpdate) -> Chatbot:
    fields = body.model_dump(exclude_unset=True)
    if "settings" in fields:
        patch = body.settings.model_dump(exclude_unset=True) if body.settings else {}
        chatbot.settings = _merge_settings(chatbot.settings or {}, patch)
        fields.pop("settings")
    for name, value in fields.items():
        if value is not None:
            setattr(chatbot, name, value)
    db.flush()
    return chatbot


def rotate_key(db: Session, chatbot: Chatbot, kind: str) -> tuple[ApiKey, str]:
    """Revoke the chatbot's active keys of this kind and issue a new one; old ones fail at once."""
    now = utcnow()
    for key in chatbot.api_keys:
        if key.kind == kind and key.revoked_at is None:
            key.revoked_at = now
    key, raw = _new_key(chatbot, kind)
    db.flush()
    return key, raw


def delete_chatbot(db: Session, settings: Settings, chatbot: Chatbot) -> None:
    """Delete the chatbot; its documents, keys and history go with the rows' cascade, its
    vector collection and files once the deletion has committed."""
    customer_id, chatbot_id = chatbot.customer_id, chatbot.id
    db.delete(chatbot)
    db.flush()

    def purge() -> None:
        vector_store_for(settings).delete_collection(str(chatbot_id))
        remove_chatbot_files(settings, customer_id, chatbot_id)

    after_commit(db, purge)
