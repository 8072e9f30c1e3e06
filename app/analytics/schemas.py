from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.chat.schemas import MessageFeedbackOut
from app.core.schemas import RequestBody


class FeedbackIn(RequestBody):
    message_id: uuid.UUID = Field(description="The answer's message_id, as the query returned it")
    rating: Literal["up", "down"]
    comment: str | None = Field(None, max_length=2000)


class FeedbackOut(MessageFeedbackOut):
    id: uuid.UUID
    message_id: uuid.UUID


class QuestionsOnDay(BaseModel):
    date: date
    questions: int
    unanswered: int


class QuestionCount(BaseModel):
    question: str = Field(description="Lower-cased, spaces collapsed, end punctuation removed")
    count: int


class FeedbackStats(BaseModel):
    up: int
    down: int
    up_to_down_ratio: float | None = Field(description="up / down; None without any down")
    positive_share: float | None = Field(description="up / (up + down); None without ratings")


class ChatbotAnalytics(BaseModel):
    chatbot_id: uuid.UUID
    start: date
    end: date
    questions: int
    unanswered: int
    questions_per_day: list[QuestionsOnDay]
    top_questions: list[QuestionCount]
    unanswered_questions: list[QuestionCount] = Field(
        description="Questions no document answered: what the documents are missing"
    )
    feedback: FeedbackStats
