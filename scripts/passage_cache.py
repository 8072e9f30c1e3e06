"""A cache of passage vectors on disk, so that evaluation and benchmark runs do not embed the
same corpus again. Imports only `ingestion`, so a benchmark can install it in another checkout
of the product (its baseline) too."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

from ingestion.embedders import BACKENDS, Embedder, register_backend


class CachedPassages:
    """An embedder that remembers passage vectors on disk, keyed by model and text.

    Installed with `register_backend` under the backend's own name, so the product's pipeline
    and the baseline use it unchanged; vectors are the model's own, so figures do not change.
    Queries are never cached: the latency measured is the real one.
    """

    def __init__(self, inner: Embedder, path: Path) -> None:
        self._inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS v (key TEXT PRIMARY KEY, vector BLOB)")
        self._lock = threading.Lock()

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.name}\0{text}".encode()).hexdigest()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        keys = [self._key(text) for text in texts]
        with self._lock:
            found = {
                key: np.frombuffer(blob, dtype=np.float32)
                for key, blob in self._db.execute(
                    f"SELECT key, vector FROM v WHERE key IN ({','.join('?' * len(keys))})", keys
                )
            }
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            computed = self._inner.embed_passages([texts[i] for i in missing])
            with self._lock:
                for i, vector in zip(missing, computed, strict=True):
                    found[keys[i]] = vector
                    self._db.execute(
                        "INSERT OR REPLACE INTO v VALUES (?, ?)", (keys[i], vector.tobytes())
                    )
                self._db.commit()
        return np.stack([found[key] for key in keys])

    def embed_query(self, text: str, lane: str = "") -> np.ndarray:
        return self._inner.embed_query(text, lane)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)


def cache_passages(backend: str, folder: Path) -> None:
    """From now on, the backend's embedders remember their passage vectors in `folder`."""
    factory = BACKENDS[backend]

    def cached(model: str, device: str) -> Embedder:
        slug = hashlib.sha256(model.encode()).hexdigest()[:12]
        return CachedPassages(factory(model, device), folder / f"{backend}-{slug}.sqlite")

    register_backend(backend, cached)
