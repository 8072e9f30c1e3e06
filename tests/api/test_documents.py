from __future__ import annotations

import io
import logging
import time
import uuid
import zipfile

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from app.core.database import session_scope
from app.core.subjects import OperatorSubject
from app.core.vectors import vector_store_for
from app.documents.jobs import backfill_lexical_index
from app.documents.models import DocumentChunk
from app.documents.repository import ChunkRepository
from app.main import create_app
from tests.samples import encrypted_pdf, make_docx, make_pdf
from tests.servers import wait_for

TEXT = (
    "Returns are accepted within 30 days of delivery. Refunds go back to the original payment "
    "method within five business days.\n\nShipping is free for orders above 50 euros. Express "
    "delivery costs 9 euros and arrives the next working day.\n"
)


# Ingestion is CPU work at the lowest priority: on a busy machine it takes many times as long.
# A generous deadline costs a passing test nothing, as the wait ends when the document does.
INGESTION_TIMEOUT = 300.0


def wait_until_done(tenant, doc_id: str, timeout: float = INGESTION_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = tenant.get(f"/api/documents/{doc_id}").json()
        if doc["status"] in ("ready", "failed"):
            return doc
        time.sleep(0.1)
    raise AssertionError(f"document {doc_id} still {doc['status']} after {timeout}s")


def upload(tenant, bot_id: str, name: str, data: bytes, field: str = "file"):
    return tenant.post(f"/api/upload/{bot_id}", files=[(field, (name, data))])


def vector_count(settings, bot_id: str, doc_id: str | None = None) -> int:
    store = vector_store_for(settings)
    return store.count(bot_id) if doc_id is None else store.count(bot_id, document_id=doc_id)


def lexical(app, tenant, bot_id: str, question: str) -> list[tuple[str, int]]:
    """(document id, chunk index) of what the full-text index finds for the question."""
    subject = OperatorSubject(uuid.UUID(tenant.customer_id))
    with app.state.sessionmaker() as db:
        hits = ChunkRepository(db).search(subject, uuid.UUID(bot_id), question, 100)
        rows = ChunkRepository(db).count(subject, uuid.UUID(bot_id))
    assert rows >= len(hits)
    return [(str(hit.document_id), hit.chunk_index) for hit in hits]


@pytest.fixture
def bot(tenant) -> dict:
    return tenant.create_chatbot(name="Shop help")


def test_upload_answers_202_then_document_becomes_ready(tenant, bot, settings):
    r = upload(tenant, bot["id"], "policy.txt", TEXT.encode())
    assert r.status_code == 202, r.text
    [doc] = r.json()
    assert doc["status"] in ("queued", "processing", "ready")
    assert doc["filename"] == "policy.txt"
    assert doc["size_bytes"] == len(TEXT.encode())
    assert len(doc["sha256"]) == 64
    done = wait_until_done(tenant, doc["id"])
    assert done["status"] == "ready", done
    assert done["chunk_count"] >= 1 and done["progress"] == 1.0
    assert done["chunks_done"] == done["chunks_total"] == done["chunk_count"]
    assert done["embedding_model"] == "intfloat/multilingual-e5-small"
    assert vector_count(settings, bot["id"], doc["id"]) == done["chunk_count"]
    stored = list((settings.upload_dir / tenant.customer_id / bot["id"]).iterdir())
    assert [p.name for p in stored] == [f"{doc['id']}.txt"]


def test_every_format_is_ingested_with_its_kind(tenant, bot):
    files = {
        "guide.pdf": make_pdf(["Page one about returns.", "Page two about shipping."]),
        "faq.docx": make_docx([("Returns", "Thirty days."), ("Shipping", "Free above 50.")]),
        "notes.md": b"# Returns\n\nThirty days.\n\n## Shipping\n\nFree above 50.\n",
        "page.html": b"<html><head><style>p{}</style><script>x()</script></head>"
        b"<body><h1>Returns</h1><p>Thirty days.</p></body></html>",
        "prices.csv": b"product,price\nmug,9.50\nshirt,25.00\n",
        "plain.txt": TEXT.encode(),
    }
    r = tenant.post(f"/api/upload/{bot['id']}", files=[("files", (n, d)) for n, d in files.items()])
    assert r.status_code == 202, r.text
    kinds = {d["filename"]: d["kind"] for d in r.json()}
    assert kinds == {
        "guide.pdf": "pdf",
        "faq.docx": "docx",
        "notes.md": "md",
        "page.html": "html",
        "prices.csv": "csv",
        "plain.txt": "txt",
    }
    for doc in r.json():
        assert wait_until_done(tenant, doc["id"])["status"] == "ready", doc["filename"]
    listed = tenant.get(f"/api/chatbots/{bot['id']}/documents").json()
    assert len(listed) == 6


def test_same_bytes_twice_make_no_duplicate_vectors(tenant, bot, settings):
    first = upload(tenant, bot["id"], "a.txt", TEXT.encode()).json()[0]
    wait_until_done(tenant, first["id"])
    count = vector_count(settings, bot["id"])
    again = upload(tenant, bot["id"], "copy-of-a.txt", TEXT.encode())
    assert again.status_code == 202
    assert again.json()[0]["id"] == first["id"]
    assert again.json()[0]["duplicate"] is True
    assert vector_count(settings, bot["id"]) == count
    assert len(tenant.get(f"/api/chatbots/{bot['id']}/documents").json()) == 1


def _zip_bomb_docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"<w:document>" + b"A" * (300 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("empty.txt", b"", 422, "empty"),
        ("report.pdf", b"just some text pretending to be a pdf", 415, "pdf"),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 415, ""),
        ("locked.pdf", encrypted_pdf(), 422, "password"),
        ("corrupt.pdf", b"%PDF-1.4\n1 0 obj garbage", 422, "pdf"),
        ("bomb.docx", _zip_bomb_docx(), 422, ""),
        ("../../etc/passwd.txt", b"hello", 400, "filename"),
        ("..\\evil.txt", b"hello", 400, "filename"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    tenant, bot, settings, name, data, status, words
):
    r = upload(tenant, bot["id"], name, data)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert words.lower() in err["message"].lower()
    assert "Traceback" not in r.text
    assert tenant.get(f"/api/chatbots/{bot['id']}/documents").json() == []
    assert not (settings.upload_dir / tenant.customer_id).exists() or not any(
        (settings.upload_dir / tenant.customer_id).rglob("*.*")
    )


def test_file_over_the_size_limit_is_413(client, tenant, bot, app):
    app.state.settings.max_upload_mb = 1
    r = upload(tenant, bot["id"], "big.txt", b"word " * (300 * 1024))
    assert r.status_code == 413
    assert "1 MB" in r.json()["error"]["message"]


def test_one_bad_file_rejects_the_batch_and_names_it(tenant, bot):
    r = tenant.post(
        f"/api/upload/{bot['id']}",
        files=[("files", ("good.txt", TEXT.encode())), ("files", ("empty.txt", b""))],
    )
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert [d["file"] for d in details] == ["empty.txt"]
    assert tenant.get(f"/api/chatbots/{bot['id']}/documents").json() == []


def test_upload_without_file_is_400(tenant, bot):
    r = tenant.post(f"/api/upload/{bot['id']}", data={"x": "y"})
    assert r.status_code == 400
    assert "file" in r.json()["error"]["message"]


def test_failed_document_does_not_touch_the_others(tenant, bot, settings):
    good = upload(tenant, bot["id"], "good.txt", TEXT.encode()).json()[0]
    doomed = upload(tenant, bot["id"], "doomed.txt", b"Doomed text about warranty.").json()[0]
    wait_until_done(tenant, good["id"])
    wait_until_done(tenant, doomed["id"])
    good_vectors = vector_count(settings, bot["id"], good["id"])
    (settings.upload_dir / tenant.customer_id / bot["id"] / f"{doomed['id']}.txt").unlink()
    assert tenant.post(f"/api/documents/{doomed['id']}/reindex").status_code == 202
    failed = wait_until_done(tenant, doomed["id"])
    assert failed["status"] == "failed"
    assert "missing" in failed["error"]
    assert tenant.get(f"/api/documents/{good['id']}").json()["status"] == "ready"
    assert vector_count(settings, bot["id"], good["id"]) == good_vectors


def test_delete_document_removes_file_row_every_vector_and_its_lexical_index(
    app, tenant, bot, settings
):
    keep = upload(tenant, bot["id"], "keep.txt", TEXT.encode()).json()[0]
    gone = upload(tenant, bot["id"], "gone.txt", ("Warranty lasts two years. " * 80).encode())
    gone = gone.json()[0]
    wait_until_done(tenant, keep["id"])
    chunks = wait_until_done(tenant, gone["id"])["chunk_count"]
    assert chunks > 1
    found = lexical(app, tenant, bot["id"], "warranty or refunds")
    assert {doc for doc, _ in found} == {keep["id"], gone["id"]}
    assert len(found) == chunks + 1
    assert tenant.delete(f"/api/documents/{gone['id']}").status_code == 204
    assert tenant.get(f"/api/documents/{gone['id']}").status_code == 404
    assert vector_count(settings, bot["id"], gone["id"]) == 0
    assert vector_count(settings, bot["id"], keep["id"]) > 0
    assert lexical(app, tenant, bot["id"], "warranty or refunds") == [(keep["id"], 0)]
    folder = settings.upload_dir / tenant.customer_id / bot["id"]
    assert [p.name for p in folder.iterdir()] == [f"{keep['id']}.txt"]


def test_documents_indexed_before_the_lexical_index_get_their_rows_from_chroma(
    app, tenant, bot, settings
):
    """Migration 0008 added the lexical index without rows for documents already indexed; the
    ingestion runner fills them from the chunks Chroma holds when it starts."""
    old = upload(tenant, bot["id"], "old.txt", ("Warranty lasts two years. " * 80).encode())
    old = old.json()[0]
    new = upload(tenant, bot["id"], "new.txt", TEXT.encode()).json()[0]
    wait_until_done(tenant, old["id"])
    wait_until_done(tenant, new["id"])
    columns = DocumentChunk.chunk_index, DocumentChunk.text, DocumentChunk.search_text
    query = select(*columns, DocumentChunk.meta).order_by(DocumentChunk.chunk_index)
    with session_scope(app.state.sessionmaker) as db:
        of_old = query.where(DocumentChunk.document_id == uuid.UUID(old["id"]))
        written = [tuple(row) for row in db.execute(of_old)]
        db.execute(delete(DocumentChunk).where(DocumentChunk.document_id == uuid.UUID(old["id"])))
    assert len(written) > 1
    assert {doc for doc, _ in lexical(app, tenant, bot["id"], "warranty")} == set()

    with TestClient(create_app(settings)):  # a server starting on the upgraded database
        wait_for(
            lambda: lexical(app, tenant, bot["id"], "warranty"),
            INGESTION_TIMEOUT,
            "the lexical backfill of the old document",
        )
    with session_scope(app.state.sessionmaker) as db:
        assert [tuple(row) for row in db.execute(of_old)] == written
    assert {doc for doc, _ in lexical(app, tenant, bot["id"], "warranty")} == {old["id"]}
    assert lexical(app, tenant, bot["id"], "refunds") == [(new["id"], 0)]  # left as it was
    assert backfill_lexical_index(app.state.sessionmaker, settings) == 0  # nothing left


def test_reindex_overwrites_instead_of_duplicating(app, tenant, bot, settings):
    doc = upload(tenant, bot["id"], "a.txt", TEXT.encode()).json()[0]
    first = wait_until_done(tenant, doc["id"])
    r = tenant.post(f"/api/documents/{doc['id']}/reindex")
    assert r.status_code == 202
    again = wait_until_done(tenant, doc["id"])
    assert again["status"] == "ready"
    assert vector_count(settings, bot["id"]) == first["chunk_count"] == again["chunk_count"]
    assert lexical(app, tenant, bot["id"], "refunds") == [(doc["id"], 0)]


def test_reindex_chatbot_rebuilds_its_collection(app, tenant, bot, settings):
    doc = upload(tenant, bot["id"], "a.txt", TEXT.encode()).json()[0]
    wait_until_done(tenant, doc["id"])
    r = tenant.post(f"/api/chatbots/{bot['id']}/reindex")
    assert r.status_code == 202 and [d["id"] for d in r.json()] == [doc["id"]]
    assert wait_until_done(tenant, doc["id"])["status"] == "ready"
    assert vector_count(settings, bot["id"]) > 0
    assert lexical(app, tenant, bot["id"], "express delivery") == [(doc["id"], 0)]


def test_deleting_a_chatbot_deletes_its_collection_files_and_lexical_index(
    app, tenant, bot, settings
):
    doc = upload(tenant, bot["id"], "a.txt", TEXT.encode()).json()[0]
    wait_until_done(tenant, doc["id"])
    assert lexical(app, tenant, bot["id"], "refunds") == [(doc["id"], 0)]
    assert tenant.delete(f"/api/chatbots/{bot['id']}").status_code == 204
    assert vector_count(settings, bot["id"]) == 0
    assert lexical(app, tenant, bot["id"], "refunds") == []
    assert not (settings.upload_dir / tenant.customer_id / bot["id"]).exists()


def test_member_can_read_but_not_upload(tenant, bot):
    member = tenant.add_user("member")
    assert upload(member, bot["id"], "a.txt", b"hello there").status_code == 403
    assert member.get(f"/api/chatbots/{bot['id']}/documents").status_code == 200


def test_two_customers_collections_never_mix(tenant, other_tenant, settings):
    mine = tenant.create_chatbot(name="Mine")
    theirs = other_tenant.create_chatbot(name="Theirs")
    a = upload(tenant, mine["id"], "a.txt", b"Our secret recipe uses cardamom.").json()[0]
    b = upload(other_tenant, theirs["id"], "b.txt", b"Their parking is on level two.").json()[0]
    wait_until_done(tenant, a["id"])
    wait_until_done(other_tenant, b["id"])
    from app.core.vectors import embedder_for

    embedder = embedder_for(settings)
    store = vector_store_for(settings)
    hits = store.query(mine["id"], embedder, embedder.embed_query("parking level"), 10)
    assert {h.metadata["document_id"] for h in hits} == {a["id"]}
    hits = store.query(theirs["id"], embedder, embedder.embed_query("recipe"), 10)
    assert {h.metadata["document_id"] for h in hits} == {b["id"]}


def test_restart_resumes_documents_left_queued_or_processing(app, tenant, bot, settings):
    """Rows left `queued`/`processing` by a stopped process are picked up on the next start."""
    from fastapi.testclient import TestClient

    from app.core.database import session_scope
    from app.documents import service
    from app.main import create_app

    class Recorder:
        def enqueue(self, document_id, customer_id):
            pass

    with session_scope(app.state.sessionmaker) as db:
        import uuid

        from app.chatbots.service import get_chatbot
        from app.core.subjects import OperatorSubject

        subject = OperatorSubject(uuid.UUID(tenant.customer_id))
        chatbot = get_chatbot(db, subject, uuid.UUID(bot["id"]))
        files = [
            service.IncomingFile("q.txt", b"Queued text about returns."),
            service.IncomingFile("p.txt", b"Processing text about shipping."),
        ]
        accepted = service.upload(db, settings, Recorder(), subject, chatbot, files)
        service.get_document(db, subject, accepted[1].id).status = "processing"
        ids = [str(a.id) for a in accepted]

    restarted = create_app(settings)
    with TestClient(restarted):
        for doc_id in ids:
            assert wait_until_done(tenant, doc_id)["status"] == "ready"
    with session_scope(app.state.sessionmaker) as db:
        assert {d.status for d in service.list_documents(db, subject, chatbot)} == {"ready"}


def test_one_customers_batch_does_not_keep_anothers_document_waiting(tenant, other_tenant):
    """The in-process worker serves customers in turns: a document uploaded behind another
    customer's batch is ingested after at most one of that batch's documents."""
    big = tenant.create_chatbot(name="Big batch")
    paragraph = "Orders ship within two business days from our warehouse in Leeds. " * 12
    files = [
        ("files", (f"part-{i}.txt", f"Part {i}.\n\n{paragraph * 8}".encode())) for i in range(5)
    ]
    batch = tenant.post(f"/api/upload/{big['id']}", files=files).json()
    small_bot = other_tenant.create_chatbot(name="Small")
    single = upload(other_tenant, small_bot["id"], "one.txt", b"Returns within 30 days.").json()[0]

    done_single = wait_until_done(other_tenant, single["id"])
    done_batch = [wait_until_done(tenant, d["id"]) for d in batch]

    assert done_single["status"] == "ready"
    finished_before = [d for d in done_batch if d["processed_at"] < done_single["processed_at"]]
    assert len(finished_before) <= 1, [d["filename"] for d in finished_before]


def chunks_embedded() -> float:
    """Chunks this process's ingestion has embedded so far (the app's own metric)."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("ingestion_chunks_embedded_total") or 0.0


def _limit_plan(tenant, **limits):
    from tests.billing.factories import add_plan, set_plan

    add_plan(tenant, "tiny", "0", "0", **limits)
    with db_of(tenant) as db:
        from sqlalchemy import update

        from app.billing.models import Plan

        db.execute(update(Plan).where(Plan.name == "tiny").values(**limits))
    set_plan(tenant, "tiny")


def db_of(tenant):
    from app.core.database import session_scope

    return session_scope(tenant.client.app.state.sessionmaker)


def test_an_upload_past_the_plans_document_cap_is_402_and_stores_nothing(tenant, bot):
    _limit_plan(tenant, max_documents=2)
    first = upload(tenant, bot["id"], "a.txt", b"Alpha returns within 30 days.")
    assert first.status_code == 202
    files = [("files", ("b.txt", b"Bravo ships fast.")), ("files", ("c.txt", b"Charlie."))]
    r = tenant.post(f"/api/upload/{bot['id']}", files=files)
    assert r.status_code == 402, r.text
    assert "at most 2 documents" in r.json()["error"]["message"]
    assert len(tenant.get(f"/api/chatbots/{bot['id']}/documents").json()) == 1
    # the same bytes again add no document, so they are not refused
    again = upload(tenant, bot["id"], "a.txt", b"Alpha returns within 30 days.")
    assert again.status_code == 202 and again.json()[0]["duplicate"] is True
    assert upload(tenant, bot["id"], "b.txt", b"Bravo ships fast.").status_code == 202


def test_a_document_past_the_plans_chunk_cap_fails_with_the_reason(tenant, bot):
    _limit_plan(tenant, max_chunks=3)
    long_text = ("Returns are accepted within thirty days of delivery. " * 40 + "\n\n") * 6
    doc = upload(tenant, bot["id"], "long.txt", long_text.encode()).json()[0]
    done = wait_until_done(tenant, doc["id"])
    assert done["status"] == "failed"
    assert "room for 3 more" in done["error"]
    small = upload(tenant, bot["id"], "small.txt", b"Refunds take five days.").json()[0]
    assert wait_until_done(tenant, small["id"])["status"] == "ready"


def test_a_ready_documents_chunks_read_in_order_with_paging(tenant, bot):
    text = "\n\n".join(
        f"# Section {n}\n\n" + f"Paragraph {n} says the pump runs at {n} bar. " * 30
        for n in range(1, 6)
    )
    doc = upload(tenant, bot["id"], "manual.md", text.encode()).json()[0]
    done = wait_until_done(tenant, doc["id"])
    assert done["status"] == "ready" and done["chunk_count"] >= 3

    first = tenant.get(f"/api/documents/{doc['id']}/chunks", params={"limit": 2}).json()
    rest = tenant.get(f"/api/documents/{doc['id']}/chunks", params={"offset": 2}).json()

    assert first["total"] == rest["total"] == done["chunk_count"]
    items = first["items"] + rest["items"]
    assert [c["index"] for c in items] == list(range(done["chunk_count"]))
    assert items[0]["heading"] == "Section 1"
    assert any("Paragraph 1" in c["text"] for c in items if c["heading"] == "Section 1")
    assert any(c["heading"] == "Section 5" for c in items)
    beyond = tenant.get(f"/api/documents/{doc['id']}/chunks", params={"offset": 999}).json()
    assert beyond["items"] == []


def test_deleting_a_document_being_ingested_stops_its_work_and_frees_the_worker(
    tenant, other_tenant, bot, caplog: pytest.LogCaptureFixture
):
    """A deleted document's ingestion stops within about a second, whatever step it is in, so
    the next customer's document does not wait for work nobody will read. Before, the worker
    went on embedding the deleted document to its end (9,407 chunks: minutes) while another
    customer's 680-byte document stayed queued."""
    caplog.set_level(logging.INFO, logger="app.documents.jobs")
    paragraph = "Orders ship within two business days from our warehouse in Leeds. " * 14
    big = "\n\n".join(f"Section {i}. {paragraph}" for i in range(1500)).encode()  # ~1,500 chunks
    doc = upload(tenant, bot["id"], "big.txt", big).json()[0]
    wait_for(
        lambda: tenant.get(f"/api/documents/{doc['id']}").json()["chunks_done"] > 0,
        INGESTION_TIMEOUT,
        "the big document's embedding",
    )
    embedded_before = chunks_embedded()
    assert tenant.delete(f"/api/documents/{doc['id']}").status_code == 204

    small_bot = other_tenant.create_chatbot(name="Small")
    small = upload(other_tenant, small_bot["id"], "one.txt", b"Returns within 30 days.").json()
    done = wait_until_done(other_tenant, small[0]["id"])
    assert done["status"] == "ready"
    # The one ingestion thread took the small document once the big one's work had ended: it
    # ended stopped, not embedded to its end and then thrown away ("its vectors removed") ...
    ended = [r.getMessage() for r in caplog.records if f"document {doc['id']}: " in r.getMessage()]
    assert any("deleted while it was ingested; its work stopped" in m for m in ended), ended
    assert not any("its vectors removed" in m for m in ended), ended
    # ... and stopped at once: a second or so of its ~1,500 chunks, counted in chunks embedded
    # after the deletion rather than in seconds, which a busy machine stretches
    after_deletion = chunks_embedded() - embedded_before - done["chunk_count"]
    assert after_deletion < 100, after_deletion
    assert vector_count(tenant.client.app.state.settings, bot["id"]) == 0
