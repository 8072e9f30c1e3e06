"""The chat domain's long-lived part, declared in route signatures: the RAG service; and what
every route asking it for an answer can be refused with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.chat.service import RagService
from app.core.deps import from_state
from app.core.openapi import errors

Rag = Annotated[RagService, Depends(from_state("rag"))]

# the plan's quota used up, and the LLM provider failing or timing out
ANSWERING = errors(402, 502, 504)
