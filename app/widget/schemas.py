from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class SnippetOut(BaseModel):
    chatbot_id: uuid.UUID
    widget_key: str = Field(description="The publishable key; it only works from allowed_origins")
    script: str = Field(description="The one line to paste before </body>")
    iframe: str = Field(description="For sites that forbid third-party scripts")
    script_url: str
    integrity: str = Field(
        description="Subresource Integrity of this widget.js version, for sites that pin it"
    )
    iframe_url: str
    demo_url: str = Field(description="A preview page on the API to try the widget")
    allowed_origins: list[str]


class WidgetConfig(BaseModel):
    """What the widget shows, plus whether the page's origin may use the widget key."""

    chatbot_id: uuid.UUID
    title: str
    greeting: str
    starter_questions: list[str]
    accent_color: str
    position: Literal["bottom-right", "bottom-left"]
    origin: str | None
    origin_allowed: bool
