from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.chatbots.origins import origin_of
from app.core.schemas import JsonNumber, RequestBody


class WidgetSettings(RequestBody):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, max_length=80)
    greeting: str | None = Field(None, max_length=500)
    starter_questions: list[str] | None = Field(None, max_length=6)
    accent_color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    position: Literal["bottom-right", "bottom-left"] | None = None


class ChatbotSettings(RequestBody):
    """Per-chatbot overrides; anything left out falls back to the server's defaults."""

    model_config = ConfigDict(extra="forbid")

    llm_model: str | None = Field(None, max_length=200)
    temperature: Annotated[float | None, Field(ge=0, le=2), JsonNumber] = None
    max_tokens: Annotated[int | None, Field(ge=1, le=8192), JsonNumber] = None
    top_k: Annotated[int | None, Field(ge=1, le=50), JsonNumber] = None
    score_threshold: Annotated[float | None, Field(ge=0, le=1), JsonNumber] = None
    chunk_size: Annotated[int | None, Field(ge=100, le=8000), JsonNumber] = None
    chunk_overlap: Annotated[int | None, Field(ge=0, le=2000), JsonNumber] = None
    widget: WidgetSettings | None = None

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChatbotSettings:
        if self.chunk_size and self.chunk_overlap and self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin like https://example.com")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{value!r} must be an origin only (scheme, host and port, no path)")
    origin = origin_of(value)
    if origin is None:
        raise ValueError(
            f"{value!r} is not an origin: its host must be a domain name or an IP address, and "
            "its port a number from 0 to 65535"
        )
    return origin


class _ChatbotFields(RequestBody):
    @field_validator("allowed_origins", check_fields=False)
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({_origin(v) for v in value})


class ChatbotCreate(_ChatbotFields):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    system_prompt: str = Field("", max_length=8000)
    settings: ChatbotSettings = Field(default_factory=ChatbotSettings)
    allowed_origins: list[str] = Field(default_factory=list, max_length=50)


class ChatbotUpdate(_ChatbotFields):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    system_prompt: str | None = Field(None, max_length=8000)
    settings: ChatbotSettings | None = None
    allowed_origins: list[str] | None = Field(None, max_length=50)


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class ChatbotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID
    name: str
    description: str
    system_prompt: str
    settings: dict
    allowed_origins: list[str]
    api_keys: list[ApiKeyOut]
    created_at: datetime
    updated_at: datetime

    @field_validator("api_keys", mode="before")
    @classmethod
    def _active_keys(cls, keys: list) -> list:
        return [k for k in keys if getattr(k, "revoked_at", None) is None]


class ChatbotCreated(ChatbotOut):
    secret_key: str = Field(description="Shown once. Server-side key for the public query API.")
    widget_key: str = Field(description="Shown once. Publishable key for the embed snippet.")


class RotateKeyIn(RequestBody):
    kind: Literal["secret", "widget"] = "secret"


class RotatedKeyOut(BaseModel):
    kind: str
    key: str = Field(description="Shown once.")
    prefix: str


class OriginCheckOut(BaseModel):
    origin: str = Field(description="The website's origin, normalised as the widget check does")
    allowed: bool = Field(description="Whether the widget answers on pages of this origin")
