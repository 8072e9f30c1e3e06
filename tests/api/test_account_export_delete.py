"""The account's export (a ZIP of all its data) and its deletion (everything but issued invoices),
through the real app, database, files and Chroma store, beside a second customer that must not
be touched."""

from __future__ import annotations

import csv
import io
import json
import logging
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

import app.models  # noqa: F401 - every table, so the metadata below is complete
from app.auth.models import User
from app.billing.invoices import generate_invoice
from app.billing.models import Invoice, InvoiceLine, UsageRecord
from app.chatbots.models import ApiKey
from app.core.database import Base
from app.core.subjects import OperatorSubject
from app.core.vectors import vector_store_for
from app.documents.jobs import process_document
from app.sources.models import WebsiteSource
from tests.api.test_documents import TEXT, upload, wait_until_done
from tests.conftest import Tenant, operator_db
from tests.servers import wait_for

PASSWORD = "correct horse battery"  # the conftest's owners'


@dataclass
class Account:
    """A customer with something in every table: people, a chatbot with a file and a text, a
    website, a rated conversation, usage, an issued invoice and a draft."""

    owner: Tenant
    admin: Tenant
    member: Tenant
    bot: dict
    upload: dict
    text: dict
    session_id: str
    issued: str  # invoice numbers
    draft: str


def last_month() -> tuple[str, datetime]:
    first = datetime.now(UTC).replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    day = first - timedelta(days=10)
    return day.strftime("%Y-%m"), day


def fill(app, owner: Tenant, name: str) -> Account:
    admin, member = owner.add_user("admin"), owner.add_user("member")
    bot = owner.create_chatbot(name=name, allowed_origins=["https://shop.example.com"])
    doc = upload(owner, bot["id"], f"{name.lower()}-policy.txt", TEXT.encode()).json()[0]
    r = owner.post(
        f"/api/chatbots/{bot['id']}/sources/text",
        json={"title": "Returns / refunds", "text": f"{name} accepts returns for 30 days."},
    )
    assert r.status_code == 202, r.text
    snippet = r.json()
    assert wait_until_done(owner, doc["id"])["status"] == "ready"
    assert wait_until_done(owner, snippet["id"])["status"] == "ready"
    r = owner.post(
        f"/api/{owner.customer_id}/{bot['id']}/query", json={"question": "Is shipping free?"}
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    r = owner.post(
        f"/api/chatbots/{bot['id']}/feedback",
        json={"message_id": answer["message_id"], "rating": "up", "comment": "Clear"},
    )
    assert r.status_code == 201, r.text
    period, when = last_month()
    customer_id = uuid.UUID(owner.customer_id)
    with operator_db(app) as db:
        site = f"https://{name.lower()}.example.com/"
        db.add(WebsiteSource(customer_id=customer_id, chatbot_id=uuid.UUID(bot["id"]),
                             url=site, status="failed"))  # fmt: skip
        db.add(UsageRecord(customer_id=customer_id, chatbot_id=uuid.UUID(bot["id"]),
                           model="m", provider="fireworks", input_tokens=4000,
                           output_tokens=1000, created_at=when))  # fmt: skip
        db.flush()
        issued = generate_invoice(db, OperatorSubject(customer_id), period).invoice
        assert issued is not None and issued.status == "issued"
        issued_number = issued.invoice_number
    r = owner.post(
        "/api/billing/invoices/generate", params={"period": datetime.now(UTC).strftime("%Y-%m")}
    )
    assert r.status_code == 201 and r.json()["status"] == "draft", r.text
    return Account(owner, admin, member, bot, doc, snippet, answer["session_id"], issued_number,
                   r.json()["invoice_number"])  # fmt: skip


@pytest.fixture
def account(app, tenant) -> Account:
    return fill(app, tenant, "Acme")


@pytest.fixture
def neighbour(app, other_tenant) -> Account:
    return fill(app, other_tenant, "Globex")


def export(tenant: Tenant) -> zipfile.ZipFile:
    r = tenant.get("/api/account/export")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(r.content))


def delete_account(tenant: Tenant, body: dict):
    return tenant.client.request("DELETE", "/api/account", headers=tenant.headers, json=body)


def read_json(archive: zipfile.ZipFile, name: str):
    return json.loads(archive.read(name))


# --- export ---------------------------------------------------------------------------------


def test_export_holds_every_file_with_the_accounts_data(account, neighbour, settings):
    r = account.owner.get("/api/account/export")
    today = datetime.now(UTC).date().isoformat()
    assert r.headers["content-disposition"] == (f'attachment; filename="acme-export-{today}.zip"')
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    bot_id, doc_id, text_id = account.bot["id"], account.upload["id"], account.text["id"]
    policy = f"files/{bot_id}/{doc_id}-acme-policy.txt"
    snippet = f"files/{bot_id}/{text_id}-Returns _ refunds"
    assert set(archive.namelist()) == {
        "customer.json", "users.json", "chatbots.json", "documents.json", "website_sources.json",
        "conversations.jsonl", "usage.csv", "invoices.json", "manifest.json", policy, snippet,
    }  # fmt: skip

    customer = read_json(archive, "customer.json")
    assert customer["name"] == "Acme" and customer["plan"] == "free"
    assert customer["contact_email"] == account.owner.email
    assert customer["retention_days"] == 90 and customer["billing_info"] == {}

    users = read_json(archive, "users.json")
    assert sorted((u["email"], u["role"]) for u in users) == sorted(
        [(account.owner.email, "owner"), (account.admin.email, "admin"),
         (account.member.email, "member")]
    )  # fmt: skip
    assert all(set(u) == {"email", "role", "created_at", "email_verified_at"} for u in users)

    [bot] = read_json(archive, "chatbots.json")
    assert bot["id"] == bot_id and bot["allowed_origins"] == ["https://shop.example.com"]
    assert sorted(k["kind"] for k in bot["api_keys"]) == ["secret", "widget"]
    keys = {k["prefix"] for k in account.bot["api_keys"]}
    assert {k["prefix"] for k in bot["api_keys"]} == keys
    assert all(set(k) == {"kind", "prefix", "created_at", "last_used_at", "revoked_at"}
               for k in bot["api_keys"])  # fmt: skip

    documents = {d["id"]: d for d in read_json(archive, "documents.json")}
    assert set(documents) == {doc_id, text_id}
    assert documents[doc_id]["filename"] == "acme-policy.txt"
    assert documents[doc_id]["status"] == "ready" and documents[doc_id]["chunks"] >= 1
    assert documents[doc_id]["size_bytes"] == len(TEXT.encode())
    assert documents[doc_id]["file"] == policy and documents[text_id]["file"] == snippet
    assert archive.read(policy) == TEXT.encode()
    assert b"Acme accepts returns for 30 days." in archive.read(snippet)

    [source] = read_json(archive, "website_sources.json")
    assert source["url"] == "https://acme.example.com/" and source["chatbot_id"] == bot_id

    [line] = archive.read("conversations.jsonl").decode().splitlines()
    conversation = json.loads(line)
    assert conversation["id"] == account.session_id and conversation["user"] == account.owner.email
    question, answer = conversation["messages"]
    assert question["role"] == "user" and question["content"] == "Is shipping free?"
    assert answer["role"] == "assistant" and "free" in answer["content"].lower()
    assert answer["feedback"]["rating"] == "up" and answer["feedback"]["comment"] == "Clear"
    assert question["feedback"] is None

    usage = list(csv.DictReader(io.StringIO(archive.read("usage.csv").decode())))
    assert len(usage) == 2
    assert {row["provider"] for row in usage} == {"fireworks", "extractive"}
    assert {row["session_id"] for row in usage} == {"", account.session_id}

    invoices = {i["invoice_number"]: i for i in read_json(archive, "invoices.json")}
    assert set(invoices) == {account.issued, account.draft}
    issued = invoices[account.issued]
    assert issued["status"] == "issued" and issued["input_tokens"] == 4000
    assert [line["kind"] for line in issued["lines"]] == ["input", "output"]
    assert issued["billed_to"]["name"] == "Acme"

    manifest = read_json(archive, "manifest.json")
    assert manifest["format_version"] == 1 and manifest["customer"]["name"] == "Acme"
    assert datetime.fromisoformat(manifest["generated_at"]) <= datetime.now(UTC)
    assert manifest["counts"] == {
        "users": 3, "chatbots": 1, "documents": 2, "files": 2, "website_sources": 1,
        "conversations": 1, "messages": 2, "usage_records": 2, "invoices": 2,
    }  # fmt: skip
    assert manifest["missing_files"] == []
    assert {"customer.json", "usage.csv", "files/"} <= set(manifest["contents"])


def test_export_never_holds_another_customers_data_or_any_secret(app, account, neighbour):
    theirs = neighbour.owner
    archive = export(account.owner)
    everything = b"".join(archive.read(name) for name in archive.namelist())
    for secret in (theirs.customer_id, theirs.email, neighbour.bot["id"], "Globex",
                   neighbour.upload["id"], neighbour.session_id, neighbour.issued):  # fmt: skip
        assert secret.encode() not in everything, secret
    with operator_db(app) as db:
        hashes = [*db.scalars(select(User.password_hash)), *db.scalars(select(ApiKey.key_hash))]
    assert len(hashes) == 10  # six users, four keys
    for secret in hashes:
        assert secret.encode() not in everything
    # and the other way round
    archive = export(theirs)
    assert read_json(archive, "customer.json")["name"] == "Globex"
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert account.owner.customer_id.encode() not in everything
    assert account.bot["id"].encode() not in everything


def test_a_file_missing_on_disk_is_listed_in_the_manifest(account, settings):
    path = settings.upload_dir / account.owner.customer_id / account.bot["id"]
    (path / f"{account.upload['id']}.txt").unlink()
    archive = export(account.owner)
    manifest = read_json(archive, "manifest.json")
    assert manifest["missing_files"] == [
        {
            "document_id": account.upload["id"],
            "filename": "acme-policy.txt",
            "entry": f"files/{account.bot['id']}/{account.upload['id']}-acme-policy.txt",
        }
    ]
    assert manifest["counts"]["documents"] == 2 and manifest["counts"]["files"] == 1
    documents = {d["id"]: d for d in read_json(archive, "documents.json")}
    assert documents[account.upload["id"]]["file"] is None
    assert not any(name.endswith("acme-policy.txt") for name in archive.namelist())


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_owners_export_or_delete_the_account(account, role):
    caller = getattr(account, role)
    r = caller.get("/api/account/export")
    assert r.status_code == 403, r.text
    body = {"password": PASSWORD, "confirm": "Acme"}
    assert delete_account(caller, body).status_code == 403
    assert account.owner.get("/auth/me").status_code == 200


def test_anonymous_callers_get_401(client):
    assert client.get("/api/account/export").status_code == 401
    r = client.request("DELETE", "/api/account", json={"password": "x", "confirm": "Acme"})
    assert r.status_code == 401


# --- deletion -------------------------------------------------------------------------------


# tables the filled account has rows in
HELD = {"customers", "users", "chatbots", "api_keys", "documents", "document_chunks",
        "website_sources", "chat_sessions", "chat_messages", "feedback", "usage_records",
        "usage_totals", "invoices"}  # fmt: skip


def tenant_rows(app, customer_id: str) -> dict[str, int]:
    """Rows of the customer in every table that has a customer_id column (and the customer's
    own row)."""
    counts = {}
    with operator_db(app) as db:
        for table in Base.metadata.sorted_tables:
            column = table.c.get("customer_id") if table.name != "customers" else table.c.id
            if column is None:
                continue
            stmt = select(func.count()).select_from(table).where(column == uuid.UUID(customer_id))
            counts[table.name] = db.scalar(stmt)
    return counts


def collections(settings) -> set[str]:
    """The names of the collections in the embedded Chroma store."""
    listed = vector_store_for(settings)._client.list_collections()  # noqa: SLF001
    return {getattr(c, "name", c) for c in listed}


def files_of(settings, customer_id: str) -> list[str]:
    folder = settings.upload_dir / customer_id
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_deletion_refused_with_a_wrong_password_or_name_deletes_nothing(app, account, settings):
    owner = account.owner
    before = tenant_rows(app, owner.customer_id)
    files = files_of(settings, owner.customer_id)
    store = vector_store_for(settings)
    vectors = store.count(account.bot["id"])
    assert vectors > 0 and len(files) == 2
    assert all(before[name] for name in HELD)

    r = delete_account(owner, {"password": "wrong horse", "confirm": "Acme"})
    assert r.status_code == 403 and "password" in r.json()["error"]["message"], r.text
    for confirm in ("acme", "Acme Inc", ""):
        r = delete_account(owner, {"password": PASSWORD, "confirm": confirm})
        assert r.status_code == 422, r.text
        assert "Type the account's name, Acme," in r.json()["error"]["message"]
    assert delete_account(owner, {"password": PASSWORD}).status_code == 422

    assert tenant_rows(app, owner.customer_id) == before
    assert files_of(settings, owner.customer_id) == files
    assert store.count(account.bot["id"]) == vectors
    for user in (owner, account.admin, account.member):
        assert user.get("/auth/me").status_code == 200


def test_guessing_the_password_is_throttled_like_signing_in(app_with):
    client, owner = app_with(login_failures_per_account="3/15minutes")
    for _ in range(3):
        r = delete_account(owner, {"password": "guess", "confirm": "Acme"})
        assert r.status_code == 403
    r = delete_account(owner, {"password": PASSWORD, "confirm": "Acme"})
    assert r.status_code == 429 and "retry-after" in r.headers
    r = client.post("/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 429  # the same count as signing in
    assert owner.get("/auth/me").status_code == 200


def test_deletion_removes_every_row_file_and_vector_but_issued_invoices(
    app, account, neighbour, settings
):
    owner, theirs = account.owner, neighbour.owner
    bot_id = account.bot["id"]
    store = vector_store_for(settings)
    names = {store.collection_name(bot_id), store.collection_name(neighbour.bot["id"])}
    assert names <= collections(settings)
    their_rows = tenant_rows(app, theirs.customer_id)
    their_files = files_of(settings, theirs.customer_id)
    their_vectors = store.count(neighbour.bot["id"])

    r = delete_account(owner, {"password": PASSWORD, "confirm": " Acme "})
    assert r.status_code == 204, r.text

    left = tenant_rows(app, owner.customer_id)
    assert set(left) >= HELD
    assert left == dict.fromkeys(left, 0)
    with operator_db(app) as db:
        kept = db.scalars(select(Invoice).where(Invoice.invoice_number == account.issued)).one()
        assert kept.customer_id is None and kept.status == "issued"
        assert kept.billed_to["name"] == "Acme" and kept.billed_to["email"] == owner.email
        assert db.scalar(select(func.count()).where(InvoiceLine.invoice_id == kept.id)) == 2
        draft = select(Invoice).where(Invoice.invoice_number == account.draft)
        assert db.scalars(draft).one_or_none() is None
        if db.get_bind().dialect.name == "sqlite":  # the full-text index's own table
            fts = text("SELECT count(*) FROM document_chunks_fts WHERE chatbot_id = :bot")
            assert db.scalar(fts, {"bot": uuid.UUID(bot_id).hex}) == 0
    assert not (settings.upload_dir / owner.customer_id).exists()
    assert store.collection_name(bot_id) not in collections(settings)
    assert store.collection_name(neighbour.bot["id"]) in collections(settings)
    for user in (owner, account.admin, account.member):
        assert user.get("/auth/me").status_code == 401
        assert user.get("/api/chatbots").status_code == 401
    r = owner.client.post("/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert r.status_code == 401

    # the other customer is as it was, and its chatbot still answers from its documents
    assert tenant_rows(app, theirs.customer_id) == their_rows
    assert files_of(settings, theirs.customer_id) == their_files
    assert store.count(neighbour.bot["id"]) == their_vectors
    r = theirs.post(
        f"/api/{theirs.customer_id}/{neighbour.bot['id']}/query",
        json={"question": "How much does express delivery cost?"},
    )
    assert r.status_code == 200 and not r.json()["unanswered"], r.text
    assert "9 euros" in r.json()["answer"]
    assert [i["invoice_number"] for i in theirs.get("/api/billing/invoices").json()] == [
        neighbour.draft, neighbour.issued
    ]  # fmt: skip


def test_a_deleted_accounts_name_and_email_can_sign_up_again(client, account):
    owner = account.owner
    r = delete_account(owner, {"password": PASSWORD, "confirm": "Acme"})
    assert r.status_code == 204
    r = client.post(
        "/auth/register",
        json={"email": owner.email, "password": PASSWORD, "customer_name": "Acme"},
    )
    assert r.status_code == 201, r.text


def test_a_document_being_ingested_when_the_account_goes_leaves_nothing_behind(
    app, tenant, settings, caplog
):
    caplog.set_level(logging.INFO, logger="app.documents.jobs")
    bot = tenant.create_chatbot(name="Big")
    long_text = " ".join(f"Clause {n}: the warranty covers part {n}." for n in range(4000))
    doc = upload(tenant, bot["id"], "long.txt", long_text.encode()).json()[0]
    wait_for(
        lambda: tenant.get(f"/api/documents/{doc['id']}").json()["status"] == "processing",
        60,
        "ingestion to start",
    )
    r = delete_account(tenant, {"password": PASSWORD, "confirm": "Acme"})
    assert r.status_code == 204, r.text
    wait_for(
        lambda: f"document {doc['id']}: deleted" in caplog.text,
        120,
        "the job to notice its document is gone",
    )
    assert tenant_rows(app, tenant.customer_id) == dict.fromkeys(
        tenant_rows(app, tenant.customer_id), 0
    )
    assert not (settings.upload_dir / tenant.customer_id).exists()
    assert vector_store_for(settings).count(bot["id"]) == 0


def test_a_job_that_wrote_its_vectors_after_the_account_went_drops_the_collection_again(
    app, tenant, settings
):
    """The account is deleted between a job's last embedding batch and its write to Chroma:
    the write makes the dropped collection again, and the job, finding its document and
    chatbot gone, drops it."""
    bot = tenant.create_chatbot(name="Late")
    doc = upload(tenant, bot["id"], "policy.txt", TEXT.encode()).json()[0]
    assert wait_until_done(tenant, doc["id"])["status"] == "ready"
    store = vector_store_for(settings)

    def delete_when_embedded(done: int, total: int) -> None:
        if done == total:
            r = delete_account(tenant, {"password": PASSWORD, "confirm": "Acme"})
            assert r.status_code == 204, r.text
            assert store.collection_name(bot["id"]) not in collections(settings)

    again = process_document(
        app.state.sessionmaker, settings, uuid.UUID(doc["id"]), on_progress=delete_when_embedded
    )
    assert again == "deleted"
    assert store.collection_name(bot["id"]) not in collections(settings)
    assert not (settings.upload_dir / tenant.customer_id).exists()
