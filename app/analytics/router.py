from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from app.analytics import service
from app.analytics.schemas import ChatbotAnalytics, FeedbackIn, FeedbackOut
from app.auth.deps import DB, CurrentUser
from app.chat.deps import authenticate_caller
from app.chatbots.service import get_chatbot

router = APIRouter(tags=["analytics"])


@router.get("/api/chatbots/{chatbot_id}/analytics", response_model=ChatbotAnalytics)
def chatbot_analytics(
    chatbot_id: uuid.UUID,
    principal: CurrentUser,
    db: DB,
    days: Annotated[int, Query(ge=1, le=365, description="The last N days, today included")] = 30,
):
    """Questions per day, the most frequent and the unanswered questions, and answer ratings."""
    chatbot = get_chatbot(db, principal.customer_id, chatbot_id)
    return service.chatbot_analytics(db, chatbot, days)


@router.post(
    "/api/public/{chatbot_id}/feedback",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
)
def post_feedback(chatbot_id: uuid.UUID, body: FeedbackIn, request: Request, db: DB):
    """Rate an answer (its `message_id`) up or down, once, with the chatbot's secret key or its
    widget key from an allowed origin."""
    caller = authenticate_caller(request, db, chatbot_id)
    return service.record_feedback(db, caller.chatbot, body.message_id, body.rating, body.comment)
