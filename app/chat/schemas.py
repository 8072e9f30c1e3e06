from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.chat.models import MessageRole, MessageStatus
from app.core.schemas import JsonNumber, RequestBody

# Every door's question: characters, and tokens of the embedding model (a question is embedded
# whole before anything else happens, so this bounds the work one question can cause).
MAX_QUESTION_CHARS = 4000
MAX_QUESTION_TOKENS = 1024


class QueryIn(RequestBody):
    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description=f"At most {MAX_QUESTION_CHARS} characters and {MAX_QUESTION_TOKENS} tokens",
    )
    session_id: uuid.UUID | None = Field(None, description="Continue this conversation")
    stream: bool = Field(False, description="Answer as Server-Sent Events")


class SourceOut(BaseModel):
    document_id: str
    filename: str
    page: int | None
    heading: str | None
    chunk_index: int
    score: float
    text: str
    url: str | None = Field(None, description="The web page the passage comes from")


class UsageOut(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class AnswerOut(BaseModel):
    answer: str
    sources: list[SourceOut]
    session_id: uuid.UUID
    message_id: uuid.UUID
    usage: UsageOut
    model: str
    provider: str = Field(
        description="Which provider answered: fireworks, openai-compatible, "
        "extractive, or none when no relevant source was found"
    )
    unanswered: bool
    related: list[SourceOut] = Field(
        default_factory=list,
        description="When the question names something no document has (a near-miss), the "
        "closest passages, offered as related reading with the refusal; else empty",
    )


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chatbot_id: uuid.UUID
    channel: str
    user_id: uuid.UUID | None
    created_at: datetime
    last_message_at: datetime
    first_question: str | None = Field(None, description="The conversation's opening question")
    message_count: int = Field(0, description="Questions and answers in the conversation")


class MessageFeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rating: str = Field(description="up or down")
    comment: str | None
    created_at: datetime


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: MessageRole
    content: str
    status: MessageStatus
    unanswered: bool
    sources: list[dict[str, Any]]
    model: str | None
    provider: str | None
    input_tokens: int
    output_tokens: int
    error: str | None
    created_at: datetime
    feedback: MessageFeedbackOut | None = Field(None, description="The answer's rating, if any")


class RetrieveIn(RequestBody):
    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description=f"At most {MAX_QUESTION_CHARS} characters and {MAX_QUESTION_TOKENS} tokens",
    )
    top_k: Annotated[
        int | None, Field(ge=1, le=50, description="Default: the chatbot's top_k"), JsonNumber
    ] = None


class RetrievedChunk(BaseModel):
    rank: int
    document_id: str
    filename: str
    page: int | None
    heading: str | None
    chunk_index: int
    text: str
    url: str | None = Field(None, description="A web page's address, for website sources")
    vector_score: float | None = Field(description="Cosine similarity; null: not in its top")
    vector_rank: int | None
    lexical_score: float | None = Field(
        description="Full-text relevance (bm25 on SQLite, ts_rank on PostgreSQL); null: no word "
        "of the question in the chunk, or not in its top"
    )
    lexical_rank: int | None
    fused_score: float = Field(description="Weighted reciprocal rank fusion (README)")
    score: float = Field(description="The fused score on 0..1, as answers' sources show it")


class RetrieveOut(BaseModel):
    question: str
    refused: bool = Field(description="Whether a question would be answered 'not found'")
    reason: str | None = Field(description="Why it would be refused")
    chunks: list[RetrievedChunk]
