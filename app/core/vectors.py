"""The process's embedder and vector store, built once from settings and shared by all paths."""

from __future__ import annotations

import threading

from app.core.config import Settings
from ingestion import Embedder, VectorStore, get_embedder, make_client
from ingestion.isolation import IsolatedWorker, get_isolated_worker

_stores: dict[tuple[str, ...], VectorStore] = {}
_lock = threading.Lock()


def embedder_for(settings: Settings) -> Embedder:
    return get_embedder(
        settings.embedding_backend, settings.embedding_model, settings.embedding_device
    )


def ingestion_worker_for(settings: Settings) -> IsolatedWorker | None:
    """The low-priority process documents are loaded, split and embedded in; None: in the
    caller's own thread (INGESTION_PROCESS=false)."""
    if not settings.ingestion_process:
        return None
    return get_isolated_worker(
        settings.embedding_backend,
        settings.embedding_model,
        settings.embedding_device,
        settings.ingestion_nice,
    )


def vector_store_for(settings: Settings) -> VectorStore:
    if settings.chroma_host:
        key: tuple[str, ...] = ("http", settings.chroma_host, str(settings.chroma_port))
    else:
        key = ("path", str(settings.vectorstore_dir))
    with _lock:
        store = _stores.get(key)
        if store is None:
            if settings.chroma_host:
                client = make_client(host=settings.chroma_host, port=settings.chroma_port)
            else:
                settings.vectorstore_dir.mkdir(parents=True, exist_ok=True)
                client = make_client(
                    path=settings.vectorstore_dir,
                    cache_collections=settings.chroma_cache_collections or None,
                )
            store = _stores[key] = VectorStore(client)
        return store
