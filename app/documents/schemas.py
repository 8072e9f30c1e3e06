from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from app.documents.models import DocumentStatus


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    chatbot_id: uuid.UUID
    filename: str
    kind: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    chunks_done: int
    chunks_total: int
    chunk_count: int
    error: str | None
    embedding_model: str | None
    created_at: datetime
    processed_at: datetime | None
    origin: str = Field(description="upload | web (a page of a website source) | text | qa")
    url: str | None = Field(None, description="A web page's address, cited in answers")
    website_id: uuid.UUID | None = Field(None, description="The website source of a web page")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def progress(self) -> float:
        if self.status == DocumentStatus.READY:
            return 1.0
        return round(self.chunks_done / self.chunks_total, 4) if self.chunks_total else 0.0


class ChunkOut(BaseModel):
    index: int
    text: str
    page: int | None = Field(None, description="PDF page the chunk starts on")
    heading: str | None = Field(None, description="The section heading it falls under")


class ChunkPage(BaseModel):
    total: int = Field(description="Chunks of the document (0 until it is ready)")
    offset: int
    items: list[ChunkOut]


class UploadOut(DocumentOut):
    duplicate: bool = Field(
        False, description="True when these bytes were already uploaded to this chatbot"
    )
