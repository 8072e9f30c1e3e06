"""Ingest one document: load, split, embed, store."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from ingestion.embedders import Embedder
from ingestion.loaders import load
from ingestion.splitter import split
from ingestion.vectorstore import VectorStore


def ingest(
    data: bytes,
    kind: str,
    *,
    document_id: str | uuid.UUID,
    chatbot_id: str | uuid.UUID,
    embedder: Embedder,
    store: VectorStore,
    chunk_size: int,
    chunk_overlap: int,
    on_progress: Callable[[int, int], None] | None = None,
    extra_metadata: dict[str, Any] | None = None,
    batch_size: int = 64,
) -> int:
    """Index a document for a chatbot, replacing its previous chunks; return the chunk count.

    on_progress(done, total) is called with (0, total) once the document is split, then after
    every batch of chunks embedded. The chunks are written once all are embedded, so a failure
    part-way leaves the previous version of the document searchable.
    """
    # Embedding is the slow step; refuse a model mismatch before spending it.
    store.check_embedder(chatbot_id, embedder)
    chunks = split(
        load(data, kind),
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        count_tokens=embedder.count_tokens,
        max_tokens=embedder.max_tokens,
    )
    total = len(chunks)
    if on_progress is not None:
        on_progress(0, total)
    embeddings = np.empty((total, embedder.dim), dtype=np.float32)
    for start in range(0, total, batch_size):
        end = min(start + batch_size, total)
        embeddings[start:end] = embedder.embed_passages([chunk.text for chunk in chunks[start:end]])
        if on_progress is not None:
            on_progress(end, total)
    store.replace_document(chatbot_id, embedder, document_id, chunks, embeddings, extra_metadata)
    return total
