"""Ingest one document: load, split, embed, store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingestion.embedders import Embedder
from ingestion.errors import IngestionCancelled
from ingestion.isolation import IsolatedWorker
from ingestion.loaders import load
from ingestion.splitter import Chunk, split
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
    should_stop: Callable[[], bool] | None = None,
    on_written: Callable[[list[Chunk]], None] | None = None,
    worker: IsolatedWorker | None = None,
    max_chunks: int | None = None,
) -> int:
    """Index a document for a chatbot, replacing its previous chunks; return the chunk count.

    Splitting stops with `TooManyChunks` past `max_chunks`.

    on_progress(done, total) is called with (0, total) once the document is split, then after
    every batch of `batch_size` chunks embedded. The chunks are written once all are embedded, so
    a failure part-way leaves the previous version of the document searchable.

    should_stop() is asked before each batch; when it answers True, `IngestionCancelled` is raised
    and nothing is written. A batch is therefore how long a caller waits for ingestion to stop.

    Each chunk is embedded with its document's title and its heading before its text (see
    `in_context`), so "the -t option" of tar's manual is found by a question about tar; the text
    stored and quoted stays the chunk's own. on_written(chunks) is called once they are stored,
    for a caller that keeps them elsewhere too (the application's lexical index).

    With a `worker`, loading, splitting and embedding run in its low-priority child process
    (`ingestion.isolation` says why), which asks should_stop() while it works, so a stop is
    honoured at once rather than after the batch; the vectors are stored from this process.
    """
    # Embedding is the slow step; refuse a model mismatch before spending it.
    store.check_embedder(chatbot_id, embedder)
    sizes = _Sizes(chunk_size, chunk_overlap, max_chunks)
    chunks = _split(data, kind, embedder, worker, sizes, should_stop)
    embeddings = _embed_all(
        chunks, embedder, worker, batch_size, extra_metadata, on_progress, should_stop
    )
    store.replace_document(chatbot_id, embedder, document_id, chunks, embeddings, extra_metadata)
    if on_written is not None:
        on_written(chunks)
    return len(chunks)


@dataclass(frozen=True)
class _Sizes:
    chunk_size: int
    chunk_overlap: int
    max_chunks: int | None


def _split(
    data: bytes,
    kind: str,
    embedder: Embedder,
    worker: IsolatedWorker | None,
    sizes: _Sizes,
    should_stop: Callable[[], bool] | None,
) -> list[Chunk]:
    """The document's chunks, in the worker's child process when there is one."""
    if worker is not None:
        return worker.split(
            data,
            kind,
            should_stop,
            chunk_size=sizes.chunk_size,
            chunk_overlap=sizes.chunk_overlap,
            max_chunks=sizes.max_chunks,
        )
    return split(
        load(data, kind),
        chunk_size=sizes.chunk_size,
        chunk_overlap=sizes.chunk_overlap,
        count_tokens=embedder.count_tokens,
        max_tokens=embedder.max_tokens,
        max_chunks=sizes.max_chunks,
        should_stop=should_stop,
    )


def _embed_all(
    chunks: list[Chunk],
    embedder: Embedder,
    worker: IsolatedWorker | None,
    batch_size: int,
    extra_metadata: dict[str, Any] | None,
    on_progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> np.ndarray:
    """The chunks' vectors, a batch at a time, asking should_stop() before each."""
    total = len(chunks)
    if on_progress is not None:
        on_progress(0, total)
    embeddings = np.empty((total, embedder.dim), dtype=np.float32)
    for start in range(0, total, batch_size):
        if should_stop is not None and should_stop():
            raise IngestionCancelled(f"stopped after {start} of {total} chunks")
        end = min(start + batch_size, total)
        texts = [in_context(chunk, extra_metadata) for chunk in chunks[start:end]]
        embeddings[start:end] = (
            worker.embed_passages(texts, should_stop)
            if worker is not None
            else embedder.embed_passages(texts)
        )
        if on_progress is not None:
            on_progress(end, total)
    return embeddings


def title_of(chunk: Chunk, extra_metadata: dict[str, Any] | None = None) -> str:
    """The chunk's title (a web page's), else its document's, else the file name's stem."""
    extra = extra_metadata or {}
    return document_title({**extra, "title": chunk.metadata.get("title") or extra.get("title")})


def document_title(metadata: Mapping[str, Any]) -> str:
    """The title in a chunk's stored metadata, else its file name without the extension."""
    if title := metadata.get("title"):
        return str(title)
    filename = str(metadata.get("filename") or "")
    return filename.rsplit(".", 1)[0] if "." in filename else filename


def in_context(chunk: Chunk, extra_metadata: dict[str, Any] | None = None) -> str:
    """A chunk as the models read it: its title and heading, then its text. Embedded and
    indexed, never quoted."""
    parts = [title_of(chunk, extra_metadata), chunk.metadata.get("heading"), chunk.text]
    return "\n".join(str(part) for part in parts if part)
