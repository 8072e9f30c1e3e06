"""What a chatbot is asked, what it could not answer, and how its answers are rated."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.analytics.models import Feedback
from app.billing.service import day_start
from app.billing.sql import utc_day
from app.chat.models import ChatMessage
from app.chatbots.models import Chatbot
from app.core.database import utcnow
from app.core.errors import Conflict, NotFound
from app.core.tenancy import tenant_select

TOP = 10
# distinct question texts read per list; the long tail beyond them cannot reach the top anyway
GROUPS_READ = 1000
_END_PUNCTUATION = "?!.。？！…:;, "


def normalise_question(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(_END_PUNCTUATION)


def record_feedback(
    db: Session,
    chatbot: Chatbot,
    message_id: uuid.UUID,
    rating: str,
    comment: str | None,
) -> Feedback:
    """Rate one of the chatbot's answers, once."""
    answer = db.scalars(
        tenant_select(ChatMessage, chatbot.customer_id).where(
            ChatMessage.id == message_id,
            ChatMessage.chatbot_id == chatbot.id,
            ChatMessage.role == "assistant",
        )
    ).one_or_none()
    if answer is None:
        raise NotFound("Message not found")
    if db.scalar(select(Feedback.id).where(Feedback.message_id == message_id)):
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
    db: Session, chatbot: Chatbot, days: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """The last `days` days (UTC, today included) of one chatbot."""
    end = (now or utcnow()).date()
    start = end - timedelta(days=days - 1)
    since = day_start(start)
    questions = (
        ChatMessage.customer_id == chatbot.customer_id,
        ChatMessage.chatbot_id == chatbot.id,
        ChatMessage.role == "user",
        ChatMessage.created_at >= since,
    )
    day = utc_day(db, ChatMessage.created_at)
    unanswered = func.sum(case((ChatMessage.unanswered, 1), else_=0))
    per_day = {
        str(d): (int(n), int(u))
        for d, n, u in db.execute(
            select(day, func.count(), unanswered).where(*questions).group_by(day)
        )
    }
    dates = [start + timedelta(days=k) for k in range(days)]
    counts = [per_day.get(d.isoformat(), (0, 0)) for d in dates]
    ratings = dict(
        db.execute(
            select(Feedback.rating, func.count())
            .where(
                Feedback.customer_id == chatbot.customer_id,
                Feedback.chatbot_id == chatbot.id,
                Feedback.created_at >= since,
            )
            .group_by(Feedback.rating)
        ).all()
    )
    up, down = ratings.get("up", 0), ratings.get("down", 0)
    return {
        "chatbot_id": chatbot.id,
        "start": start,
        "end": end,
        "questions": sum(n for n, _ in counts),
        "unanswered": sum(u for _, u in counts),
        "questions_per_day": [
            {"date": d, "questions": n, "unanswered": u}
            for d, (n, u) in zip(dates, counts, strict=True)
        ],
        "top_questions": _most_asked(db, questions),
        "unanswered_questions": _most_asked(db, (*questions, ChatMessage.unanswered.is_(True))),
        "feedback": {
            "up": up,
            "down": down,
            "up_to_down_ratio": round(up / down, 4) if down else None,
            "positive_share": round(up / (up + down), 4) if up + down else None,
        },
    }


def _most_asked(db: Session, where: tuple[Any, ...]) -> list[dict[str, Any]]:
    text = func.lower(func.trim(ChatMessage.content))
    count = func.count()
    rows = db.execute(
        select(text, count).where(*where).group_by(text).order_by(count.desc()).limit(GROUPS_READ)
    )
    # SQL groups on case and outer spaces; variants in spacing or end punctuation merge here
    merged: Counter[str] = Counter()
    for question, n in rows:
        merged[normalise_question(question)] += n
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return [{"question": q, "count": n} for q, n in ranked[:TOP] if q]
