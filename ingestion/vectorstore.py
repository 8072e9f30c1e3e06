"""Chunks and their vectors in Chroma: one collection per chatbot, embedded or on a server.

Each collection records the embedding model that filled it. Vectors of different models are not
comparable, so writing or searching with another model is refused until the chatbot is reindexed.
Never open the same embedded path from two processes; threads of one process are fine.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.client import Client
from chromadb.api.models.Collection import Collection
from chromadb.api.rust import RustBindingsAPI
from chromadb.config import Settings, System
from chromadb.errors import NotFoundError

from ingestion.embedders import Embedder
from ingestion.errors import EmbeddingModelMismatch
from ingestion.splitter import Chunk

# Write a collection's HNSW index to disk after every write, not after Chroma's default of 1000
# vectors: in chromadb 1.5 an index that was never written to disk cannot be loaded again once
# the index pool evicts it ("Error creating hnsw segment reader: Nothing found on disk" until the
# process restarts), which with a bounded pool, or more chatbots than RLIMIT_NOFILE / 5, is every
# chatbot of fewer than 1000 chunks. Costs about 10% of the store's write time (not the model's).
SYNC_THRESHOLD = 1
# collection handles a store remembers for queries (a handle is a name, an id and metadata)
HANDLES_REMEMBERED = 4096


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity, 1 = same direction


def make_client(
    *,
    path: Path | None = None,
    host: str | None = None,
    port: int = 8000,
    cache_collections: int | None = None,
) -> ClientAPI:
    """An embedded client storing under `path`, or a client of the Chroma server at host:port.

    `cache_collections` bounds how many collections' HNSW indexes the embedded store keeps in
    memory (least recently used first out; an evicted one is read from disk at its next query).
    chromadb 1.5's Rust-backed embedded client ignores `chroma_memory_limit_bytes` and
    `chroma_segment_cache_policy` (measured: the same RSS with and without them); the one bound it
    honours is the size of its HNSW index pool, which it otherwise derives from the open-file
    limit (RLIMIT_NOFILE / 5, thousands of indexes). A server is bounded by its own config file.
    """
    settings = Settings(anonymized_telemetry=False)
    if path is not None and host is None:
        if cache_collections is None:
            return chromadb.PersistentClient(path=str(path), settings=settings)
        return Client.from_system(_bounded_system(path, cache_collections, settings))
    if host is not None and path is None:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    raise ValueError("give either a path (embedded Chroma) or a host (Chroma server)")


_systems: dict[str, System] = {}
_systems_lock = threading.Lock()


def _bounded_system(path: Path, cache_collections: int, settings: Settings) -> System:
    """One started Chroma system per path and process, its HNSW pool holding at most
    `cache_collections` indexes. Two systems on one path would be two writers of one store."""
    if cache_collections < 1:
        raise ValueError("cache_collections must be at least 1")
    key = str(Path(path).resolve())
    with _systems_lock:
        system = _systems.get(key)
        if system is None:
            settings.is_persistent = True
            settings.persist_directory = str(path)
            system = System(settings)
            # read by the bindings when the system starts: set it between creation and start
            system.instance(RustBindingsAPI).hnsw_cache_size = cache_collections
            system.start()
            _systems[key] = system
        return system


class VectorStore:
    def __init__(self, client: ClientAPI) -> None:
        self._client = client
        # Queries reuse the collection's handle: asking Chroma for it holds the GIL for about a
        # millisecond (a tenth of a loaded server's Python time). A handle of a collection that
        # has since gone (deleted here or by another process) fails its query with NotFoundError;
        # the query then asks for the collection again.
        self._handles: OrderedDict[str, Collection] = OrderedDict()
        self._handles_lock = threading.Lock()

    @staticmethod
    def collection_name(chatbot_id: str | uuid.UUID) -> str:
        return f"chatbot_{uuid.UUID(str(chatbot_id)).hex}"

    def upsert(
        self,
        chatbot_id: str | uuid.UUID,
        embedder: Embedder,
        document_id: str | uuid.UUID,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        extra_metadata: dict[str, Any] | None = None,
    ) -> None:
        """Write chunks under ids "<document_id>:<index>", overwriting any with the same id."""
        collection = self._collection_for_writing(chatbot_id, embedder)
        self._write(collection, str(document_id), chunks, embeddings, extra_metadata)

    def replace_document(
        self,
        chatbot_id: str | uuid.UUID,
        embedder: Embedder,
        document_id: str | uuid.UUID,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        extra_metadata: dict[str, Any] | None = None,
    ) -> None:
        """Make these chunks the document's only ones.

        The new chunks overwrite the old ones with the same ids before the old surplus is
        deleted, so the document never disappears from search while it is reindexed.
        """
        collection = self._collection_for_writing(chatbot_id, embedder)
        self._write(collection, str(document_id), chunks, embeddings, extra_metadata)
        surplus = {
            "$and": [{"document_id": str(document_id)}, {"chunk_index": {"$gte": len(chunks)}}]
        }
        collection.delete(where=surplus)  # type: ignore[arg-type]  # mypy cannot match Where

    def check_embedder(self, chatbot_id: str | uuid.UUID, embedder: Embedder) -> None:
        """Raise EmbeddingModelMismatch if the chatbot's index was built with another model."""
        collection = self._existing_collection(chatbot_id)
        if collection is not None:
            _check_model(collection, embedder)

    def delete_document(self, chatbot_id: str | uuid.UUID, document_id: str | uuid.UUID) -> None:
        collection = self._existing_collection(chatbot_id)
        if collection is not None:
            collection.delete(where={"document_id": str(document_id)})

    def delete_collection(self, chatbot_id: str | uuid.UUID) -> None:
        self._forget(chatbot_id)
        with contextlib.suppress(NotFoundError):
            self._client.delete_collection(self.collection_name(chatbot_id))

    def count(self, chatbot_id: str | uuid.UUID, document_id: str | uuid.UUID | None = None) -> int:
        """Vectors in the chatbot's collection, or of one of its documents."""
        collection = self._existing_collection(chatbot_id)
        if collection is None:
            return 0
        if document_id is None:
            return collection.count()
        found = collection.get(where={"document_id": str(document_id)}, include=[])
        return len(found["ids"])

    def chunks(
        self, chatbot_id: str | uuid.UUID, document_id: str | uuid.UUID, indices: range
    ) -> list[Hit]:
        """A document's chunks at these indices, in order (score 1: nothing was searched)."""
        collection = self._existing_collection(chatbot_id)
        if collection is None or not indices:
            return []
        ids = [f"{document_id}:{index}" for index in indices]
        found = collection.get(ids=ids, include=["documents", "metadatas"])
        by_id = {
            chunk_id: Hit(chunk_id, text or "", dict(metadata or {}), 1.0)
            for chunk_id, text, metadata in zip(
                found["ids"], found["documents"] or [], found["metadatas"] or [], strict=True
            )
        }
        return [by_id[chunk_id] for chunk_id in ids if chunk_id in by_id]

    def query(
        self, chatbot_id: str | uuid.UUID, embedder: Embedder, query_embedding: np.ndarray, k: int
    ) -> list[Hit]:
        """The k chunks nearest the query, best first; none if the chatbot has no index yet."""
        remembered = self._searchable(chatbot_id)
        if remembered is not None:
            try:
                return self._nearest(remembered, embedder, query_embedding, k)
            except NotFoundError:  # gone since its handle was remembered: ask Chroma again
                self._forget(chatbot_id)
        collection = self._existing_collection(chatbot_id)
        if collection is None:
            return []
        try:
            hits = self._nearest(collection, embedder, query_embedding, k)
        except NotFoundError:  # deleted between the two calls
            return []
        self._remember(chatbot_id, collection)
        return hits

    @staticmethod
    def _nearest(
        collection: Collection, embedder: Embedder, query_embedding: np.ndarray, k: int
    ) -> list[Hit]:
        _check_model(collection, embedder)
        result = collection.query(
            query_embeddings=[query_embedding],
            n_results=k,
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(id=id_, text=text or "", metadata=dict(metadata or {}), score=1.0 - distance)
            for id_, text, metadata, distance in zip(
                result["ids"][0],
                (result["documents"] or [[]])[0],
                (result["metadatas"] or [[]])[0],
                (result["distances"] or [[]])[0],
                strict=True,
            )
        ]

    def _write(
        self,
        collection: Collection,
        document_id: str,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        extra_metadata: dict[str, Any] | None,
    ) -> None:
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        batch = self._client.get_max_batch_size()
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            collection.upsert(
                ids=[f"{document_id}:{chunk.index}" for chunk in part],
                embeddings=embeddings[start : start + batch],
                documents=[chunk.text for chunk in part],
                metadatas=[chunk_metadata(chunk, document_id, extra_metadata) for chunk in part],
            )

    def _searchable(self, chatbot_id: str | uuid.UUID) -> Collection | None:
        with self._handles_lock:
            name = self.collection_name(chatbot_id)
            handle = self._handles.get(name)
            if handle is not None:
                self._handles.move_to_end(name)
            return handle

    def _remember(self, chatbot_id: str | uuid.UUID, collection: Collection) -> None:
        with self._handles_lock:
            self._handles[self.collection_name(chatbot_id)] = collection
            while len(self._handles) > HANDLES_REMEMBERED:
                self._handles.popitem(last=False)

    def _forget(self, chatbot_id: str | uuid.UUID) -> None:
        with self._handles_lock:
            self._handles.pop(self.collection_name(chatbot_id), None)

    def _existing_collection(self, chatbot_id: str | uuid.UUID) -> Collection | None:
        try:
            return self._client.get_collection(
                self.collection_name(chatbot_id), embedding_function=None
            )
        except NotFoundError:
            return None

    def _collection_for_writing(
        self, chatbot_id: str | uuid.UUID, embedder: Embedder
    ) -> Collection:
        collection = self._client.get_or_create_collection(
            self.collection_name(chatbot_id),
            configuration={"hnsw": {"space": "cosine", "sync_threshold": SYNC_THRESHOLD}},
            metadata={"embedding_model": embedder.name, "embedding_dim": embedder.dim},
            # Vectors are always computed by our embedders; Chroma's default would download a model.
            embedding_function=None,
        )
        _check_model(collection, embedder)
        hnsw = (collection.configuration_json or {}).get("hnsw") or {}
        if hnsw.get("sync_threshold") != SYNC_THRESHOLD:  # created before the setting existed
            collection.modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})
        return collection


def _check_model(collection: Collection, embedder: Embedder) -> None:
    metadata = collection.metadata or {}
    model, dim = metadata.get("embedding_model"), metadata.get("embedding_dim")
    if model != embedder.name or dim != embedder.dim:
        raise EmbeddingModelMismatch(
            index_model=str(model) if model else None,
            index_dim=int(dim) if isinstance(dim, int) else None,
            current_model=embedder.name,
            current_dim=embedder.dim,
        )


def chunk_metadata(
    chunk: Chunk, document_id: str, extra_metadata: dict[str, Any] | None
) -> dict[str, str | int | float | bool]:
    """A chunk's metadata as it is stored with its vector."""
    metadata = {
        **(extra_metadata or {}),
        **chunk.metadata,
        "document_id": document_id,
        "chunk_index": chunk.index,
    }
    return {key: value for key, value in metadata.items() if value is not None}
