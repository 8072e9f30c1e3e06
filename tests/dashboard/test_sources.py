"""Sources: several files uploaded by picker or drag-and-drop, each with its own status updating
live until ready; a bad file shows the server's reason; delete and reindex."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ingestion import SUFFIXES
from tests.api.test_documents import TEXT, upload, wait_until_done

pytestmark = pytest.mark.browser

FAQ = b"# Opening hours\n\nThe shop opens at 9 and closes at 18, Monday to Saturday.\n"
# ms; ingestion runs at the lowest priority, which a busy machine stretches many times over
READY_TIMEOUT = 300_000


def documents(page: Page):
    return page.get_by_role("list", name="Documents")


def drop(page: Page, name: str, data: bytes, mime: str = "text/plain") -> None:
    transfer = page.evaluate_handle(
        """([name, text, mime]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], name, {type: mime}));
            return dt;
        }""",
        [name, data.decode(), mime],
    )
    page.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": transfer})


def test_files_picked_and_dropped_each_show_status_until_ready(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)
    expect(page.get_by_role("heading", name="No documents yet")).to_be_visible()
    dashboard.check(page, "sources-empty")

    page.get_by_label("Files to upload").set_input_files(
        [
            {"name": "policy.txt", "mimeType": "text/plain", "buffer": TEXT.encode()},
            {"name": "faq.md", "mimeType": "text/markdown", "buffer": FAQ},
        ]
    )
    drop(page, "hours.txt", b"Deliveries leave the warehouse every weekday at noon.\n")

    for name in ("policy.txt", "faq.md", "hours.txt"):
        row = documents(page).get_by_role("listitem", name=name)
        expect(row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
        expect(row).to_contain_text("passage")
    expect(page.get_by_role("heading", name="3 documents · 3 ready")).to_be_visible()
    docs = owner.get(f"/api/chatbots/{bot['id']}/documents").json()
    assert sorted(d["status"] for d in docs) == ["ready"] * 3
    documents(page).get_by_role("button", name="policy.txt", exact=True).click()
    expect(documents(page)).to_contain_text("Embedding model")
    dashboard.check(page, "sources")


def test_a_bad_file_shows_the_servers_reason_next_to_it(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    dashboard.allow_console("status of 4\\d\\d")  # the refused upload
    reason = upload(owner, bot["id"], "empty.txt", b"").json()["error"]["message"]
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)

    page.get_by_label("Files to upload").set_input_files(
        [
            {"name": "empty.txt", "mimeType": "text/plain", "buffer": b""},
            {"name": "policy.txt", "mimeType": "text/plain", "buffer": TEXT.encode()},
        ]
    )

    rejected = page.get_by_role("list", name="Uploads").get_by_role("listitem", name="empty.txt")
    expect(rejected).to_contain_text("Rejected")
    expect(rejected).to_contain_text(reason)
    good = documents(page).get_by_role("listitem", name="policy.txt")
    expect(good.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
    dashboard.check(page, "sources-rejected")
    rejected.get_by_role("button", name="Dismiss empty.txt").click()
    expect(page.get_by_role("list", name="Uploads")).to_have_count(0)


def test_owner_reindexes_and_deletes_a_document(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    doc = upload(owner, bot["id"], "policy.txt", TEXT.encode()).json()[0]
    assert wait_until_done(owner, doc["id"])["status"] == "ready"
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)
    row = documents(page).get_by_role("listitem", name="policy.txt")
    expect(row.get_by_text("Ready", exact=True)).to_be_visible()

    with page.expect_response(lambda r: r.url.endswith("/reindex")) as reindexed:
        row.get_by_role("button", name="Reindex policy.txt").click()
    assert reindexed.value.status == 202
    expect(row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)

    row.get_by_role("button", name="Delete policy.txt").click()
    dialog = page.get_by_role("dialog", name="Delete “policy.txt”?")
    expect(dialog).to_contain_text("stops answering from it")
    dialog.get_by_role("button", name="Delete document").click()
    expect(page.get_by_role("heading", name="No documents yet")).to_be_visible()
    assert owner.get(f"/api/chatbots/{bot['id']}/documents").json() == []


def test_member_sees_documents_without_upload_or_delete(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    upload(owner, bot["id"], "policy.txt", TEXT.encode())
    member = owner.add_user("member")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=member)

    expect(documents(page).get_by_role("listitem", name="policy.txt")).to_be_visible()
    expect(
        page.get_by_text("Only owners and admins can add, edit or remove sources.")
    ).to_be_visible()
    for name in ("Choose files", "Delete policy.txt", "Reindex policy.txt", "Reindex all"):
        expect(page.get_by_role("button", name=name)).to_have_count(0)


def test_progress_of_a_long_document_updates_live(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help", settings={"chunk_size": 100, "chunk_overlap": 0})
    long_text = "\n\n".join(
        f"Article {n}: the teapot model T{n} holds {n % 7 + 1} cups and ships in {n % 5 + 2} days."
        for n in range(120)
    )
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)

    page.get_by_label("Files to upload").set_input_files(
        [{"name": "catalogue.txt", "mimeType": "text/plain", "buffer": long_text.encode()}]
    )

    row = documents(page).get_by_role("listitem", name="catalogue.txt")
    expect(row).to_contain_text(re.compile(r"\d+ / \d+ passages"), timeout=READY_TIMEOUT)
    expect(row.get_by_role("progressbar", name="Processing catalogue.txt")).to_be_visible()
    expect(row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
    expect(row).to_contain_text("120 passages")


def test_opening_a_document_shows_its_passages_a_page_at_a_time(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help", settings={"chunk_size": 100, "chunk_overlap": 0})
    sections = {"Returns": range(0, 24), "Shipping": range(24, 60)}
    manual = "\n\n".join(
        f"# {heading}\n\n"
        + "\n\n".join(f"Rule {n}: parcels of type P{n} take {n % 4 + 1} days." for n in rules)
        for heading, rules in sections.items()
    )
    doc = upload(owner, bot["id"], "rules.md", manual.encode()).json()[0]
    assert wait_until_done(owner, doc["id"])["status"] == "ready"
    chunks = owner.get(f"/api/documents/{doc['id']}/chunks", params={"limit": 200}).json()
    total = chunks["total"]
    assert total > 20, "the test needs more than one page of passages"
    member = owner.add_user("member")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=member)

    documents(page).get_by_role("button", name="rules.md", exact=True).click()
    passages = page.get_by_role("region", name="Passages of rules.md")
    expect(passages.get_by_role("heading")).to_have_text(f"Passages 1–20 of {total}")
    items = passages.get_by_role("listitem")
    expect(items).to_have_count(20)
    first = chunks["items"][0]
    assert first["heading"] == "Returns"
    expect(items.first).to_contain_text(f"Passage 1 · Returns{first['text']}")
    dashboard.check(page, "sources-passages")

    passages.get_by_role("button", name=f"Show {min(total - 20, 20)} more passages").click()
    expect(items).to_have_count(min(total, 40))
    shown = chunks["items"][20]
    expect(items.nth(20)).to_contain_text(f"Passage 21 · {shown['heading']}{shown['text']}")
    if total <= 40:
        expect(passages.get_by_role("heading")).to_have_text(f"{total} passages")
        expect(passages.get_by_role("button")).to_have_count(0)


def test_the_file_picker_offers_every_suffix_the_server_reads(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Docs")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/sources", tenant=owner)
    accept = page.get_by_label("Files to upload").get_attribute("accept") or ""
    assert sorted(accept.split(",")) == sorted(SUFFIXES)

    rst = b"Installation\n============\n\nRun ``pip install acme`` to install the client.\n"
    page.get_by_label("Files to upload").set_input_files(
        [{"name": "install.rst", "mimeType": "text/x-rst", "buffer": rst}]
    )
    row = documents(page).get_by_role("listitem", name="install.rst")
    expect(row.get_by_text("Ready", exact=True)).to_be_visible(timeout=READY_TIMEOUT)
