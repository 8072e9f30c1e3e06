"""What a chatbot is asked, what it could not answer, and how its answers are rated."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.analytics.repository import FeedbackRepository, QuestionRepository
from app.analytics.schemas import (
    ChatbotAnalytics,
    FeedbackStats,
    QuestionCount,
    QuestionsOnDay,
)
from app.billing.service import day_start
from app.chat.models import Feedback
from app.chat.repository import ChatMessageRepository
from app.chatbots.models import Chatbot
from app.core.database import utcnow
from app.core.errors import Conflict
from app.core.subjects import AuthSubject

TOP = 10
_END_PUNCTUATION = "?!.。？！…:;, "


def normalise_question(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(_END_PUNCTUATION)


def record_feedback(
    db: Session,
    subject: AuthSubject,
    chatbot: Chatbot,
    message_id: uuid.UUID,
    rating: str,
    comment: str | None,
) -> Feedback:
    """Rate one of the chatbot's answers, once."""
    ChatMessageRepository(db).answer(subject, chatbot.id, message_id)
    if FeedbackRepository(db).exists_for(subject, message_id):
        raise Conflict("This answer has already been rated")
    feedback = Feedback(
        customer_id=chatbot.customer_id,
        chatbot_id=chatbot.id,
        message_id=message_id,
        rating=rating,
        comment=comment,
    )
    db.add(feedback)
    try:
        db.flush()
    except IntegrityError:  # rated by a concurrent request since the check above
        raise Conflict("This answer has already been rated") from None
    return feedback


def chatbot_analytics(
    db: Session, subject: AuthSubject, chatbot: Chatbot, days: int, *, now: datetime | None = None
) -> ChatbotAnalytics:
    """The last `days` days (UTC, today included) of one chatbot."""
    end = (now or utcnow()).date()
    start = end - timedelta(days=days - 1)
    since = day_start(start)
    questions = QuestionRepository(db)
    per_day = questions.per_day(subject, chatbot.id, since)
    dates = [start + timedelta(days=k) for k in range(days)]
    counts = [per_day.get(d.isoformat(), (0, 0)) for d in dates]
    ratings = FeedbackRepository(db).ratings(subject, chatbot.id, since)
    up, down = ratings.get("up", 0), ratings.get("down", 0)
    return ChatbotAnalytics(
        chatbot_id=chatbot.id,
        start=start,
        end=end,
        questions=sum(n for n, _ in counts),
        unanswered=sum(u for _, u in counts),
        questions_per_day=[
            QuestionsOnDay(date=d, questions=n, unanswered=u)
            for d, (n, u) in zip(dates, counts, strict=True)
        ],
        top_questions=_ranked(questions.most_asked(subject, chatbot.id, since)),
        unanswered_questions=_ranked(
            questions.most_asked(subject, chatbot.id, since, unanswered_only=True)
        ),
        feedback=FeedbackStats(
            up=up,
            down=down,
            up_to_down_ratio=round(up / down, 4) if down else None,
            positive_share=round(up / (up + down), 4) if up + down else None,
        ),
    )


def _ranked(rows: list[tuple[str, int]]) -> list[QuestionCount]:
    # SQL groups on case and outer spaces; variants in spacing or end punctuation merge here
    merged: Counter[str] = Counter()
    for question, n in rows:
        merged[normalise_question(question)] += n
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return [QuestionCount(question=q, count=n) for q, n in ranked[:TOP] if q]
