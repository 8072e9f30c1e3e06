"""The chat domain's long-lived part, declared in route signatures: the RAG service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.chat.service import RagService
from app.core.deps import from_state

Rag = Annotated[RagService, Depends(from_state("rag"))]
