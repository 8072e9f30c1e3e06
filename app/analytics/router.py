from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.analytics import service
from app.analytics.schemas import ChatbotAnalytics, FeedbackIn, FeedbackOut
from app.auth.deps import CurrentUser, StaffUser
from app.chatbots.deps import ChatbotKey, UsersChatbot
from app.core.database import DB
from app.core.openapi import errors

router = APIRouter(tags=["analytics"])


@router.get("/api/chatbots/{chatbot_id}/analytics", response_model=ChatbotAnalytics)
def chatbot_analytics(
    user: CurrentUser,
    chatbot: UsersChatbot,
    db: DB,
    days: Annotated[int, Query(ge=1, le=365, description="The last N days, today included")] = 30,
) -> ChatbotAnalytics:
    """Questions per day, the most frequent and the unanswered questions, and answer ratings."""
    return service.chatbot_analytics(db, user, chatbot, days)


@router.post(
    "/api/public/{chatbot_id}/feedback",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
def post_feedback(chatbot_id: uuid.UUID, body: FeedbackIn, caller: ChatbotKey, db: DB):
    """Rate an answer (its `message_id`) up or down, once, with the chatbot's secret key or its
    widget key from an allowed origin."""
    return service.record_feedback(
        db, caller.subject, caller.chatbot, body.message_id, body.rating, body.comment
    )


@router.post(
    "/api/chatbots/{chatbot_id}/feedback",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(409),
)
def rate_as_staff(body: FeedbackIn, user: StaffUser, chatbot: UsersChatbot, db: DB):
    """Rate one of the chatbot's answers up or down, once, as an owner or admin (the
    dashboard's playground); the same ratings as visitors', counted in analytics alike."""
    return service.record_feedback(db, user, chatbot, body.message_id, body.rating, body.comment)
