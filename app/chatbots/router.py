from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import CurrentUser, StaffUser
from app.chatbots import service
from app.chatbots.deps import UsersChatbot
from app.chatbots.schemas import (
    ChatbotCreate,
    ChatbotCreated,
    ChatbotOut,
    ChatbotUpdate,
    OriginCheckOut,
    RotatedKeyOut,
    RotateKeyIn,
)
from app.core.database import DB
from app.core.deps import AppSettings

router = APIRouter(prefix="/api/chatbots", tags=["chatbots"])


@router.post("", response_model=ChatbotCreated, status_code=status.HTTP_201_CREATED)
def create_chatbot(body: ChatbotCreate, user: StaffUser, db: DB) -> ChatbotCreated:
    """Create a chatbot. Its secret and widget keys are returned here once, never again."""
    return service.create_chatbot(db, user, body)


@router.get("", response_model=list[ChatbotOut])
def list_chatbots(user: CurrentUser, db: DB):
    return service.list_chatbots(db, user)


@router.get("/{chatbot_id}", response_model=ChatbotOut)
def get_chatbot(chatbot: UsersChatbot):
    return chatbot


@router.patch("/{chatbot_id}", response_model=ChatbotOut)
def update_chatbot(body: ChatbotUpdate, user: StaffUser, chatbot: UsersChatbot, db: DB):
    return service.update_chatbot(db, chatbot, body)


@router.delete("/{chatbot_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_chatbot(user: StaffUser, chatbot: UsersChatbot, db: DB, settings: AppSettings) -> None:
    service.delete_chatbot(db, settings, chatbot)


@router.post("/{chatbot_id}/rotate_key", response_model=RotatedKeyOut)
def rotate_key(
    user: StaffUser, chatbot: UsersChatbot, db: DB, body: RotateKeyIn | None = None
) -> RotatedKeyOut:
    """Replace the chatbot's secret (default) or widget key. The old key stops working at once."""
    kind = (body or RotateKeyIn()).kind
    key, raw = service.rotate_key(db, chatbot, kind)
    return RotatedKeyOut(kind=kind, key=raw, prefix=key.prefix)


@router.get("/{chatbot_id}/origin-check", response_model=OriginCheckOut)
def check_origin(
    chatbot_id: uuid.UUID,
    user: CurrentUser,
    db: DB,
    url: Annotated[
        str,
        Query(
            min_length=1,
            max_length=2048,
            description="A page of the website; without a scheme, https is assumed",
            examples=["https://shop.example.com/page"],
        ),
    ],
) -> OriginCheckOut:
    """Whether the widget answers on this website, by the same normalisation and list the
    widget's origin check uses."""
    return service.check_origin(db, user, chatbot_id, url)
