"""Website sources end to end: a real site on loopback, crawled in the background, its pages
indexed as documents and cited by URL through the public query endpoint."""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from app.sources.repository import WebsiteSourceRepository
from tests.api.test_documents import INGESTION_TIMEOUT
from tests.races import check_together
from tests.servers import wait_for
from tests.sources.conftest import ask, wait_crawled
from tests.sources.site import BOILERPLATE_WORDS


def _add(tenant, url: str) -> dict:
    r = tenant.post(f"/api/chatbots/{tenant.chatbots[0]['id']}/sources/url", json={"url": url})
    assert r.status_code == 202, r.text
    return r.json()


def _reasons(source: dict) -> dict[str, str]:
    return {issue["url"]: issue["reason"] for issue in source["issues"]}


def test_crawl_indexes_the_sites_pages_and_answers_cite_their_url(web, site):
    added = _add(web, f"{site.url}/")
    assert added["status"] in ("queued", "crawling")
    source, pages = wait_crawled(web, added["id"])

    assert source["status"] == "ready", source
    assert source["last_crawled_at"] is not None
    by_url = {p["url"]: p for p in pages}
    assert set(by_url) == {f"{site.url}{path}" for path in ("/", "/shipping", "/returns", "/faq")}
    assert {p["status"] for p in pages} == {"ready"}
    assert by_url[f"{site.url}/shipping"]["filename"] == "Shipping times – Nordvik Outdoor"
    assert all(p["origin"] == "web" and p["website_id"] == source["id"] for p in pages)
    assert source["pages_done"] == 4 and source["pages_indexed"] == 4

    reasons = _reasons(source)
    assert reasons[f"{site.url}/private/launch"] == "robots.txt disallows it"
    assert reasons[f"{site.url}/missing"] == "HTTP 404"
    assert "loop" in reasons[f"{site.url}/loop-a"]
    assert "larger than 512 KB" in reasons[f"{site.url}/huge"]
    assert "not an HTML page (application/json)" in reasons[f"{site.url}/prices"]
    assert source["pages_failed"] == 3  # the 404, the loop, the huge page
    assert "/private/launch" not in site.requests, "robots.txt must be asked before fetching"
    assert "/manual.pdf" not in site.requests, "links to files are not fetched"
    assert not any("other.invalid" in issue["url"] for issue in source["issues"])
    counted = source["pages_done"] + source["pages_failed"] + source["pages_skipped"]
    assert source["pages_found"] == counted

    # documents like any other: listed with the chatbot's, their chunks hold the main content
    docs = web.get(f"/api/chatbots/{web.chatbots[0]['id']}/documents").json()
    assert {d["id"] for d in docs} == {p["id"] for p in pages}
    for page in pages:
        chunks = web.get(f"/api/documents/{page['id']}/chunks").json()["items"]
        body = "\n".join(c["text"] for c in chunks)
        assert body and not any(word in body for word in BOILERPLATE_WORDS), page["url"]
    home = web.get(f"/api/documents/{by_url[site.url + '/']['id']}/chunks").json()["items"]
    assert "Home\nShipping\nReturns" not in home[0]["text"]
    assert "Tromsø repairs every product" in home[0]["text"]

    answer = ask(web, web.chatbots[0], "How many business days do parcels to Norway take?")
    assert not answer["unanswered"], answer
    top = answer["sources"][0]
    assert top["url"] == f"{site.url}/shipping"
    assert top["filename"] == "Shipping times – Nordvik Outdoor"
    assert "four business days" in answer["answer"]
    refused = ask(web, web.chatbots[0], "What is the code name of the secret winter tent?")
    assert "Bluebird" not in refused["answer"]


def test_recrawl_reindexes_changed_pages_removes_vanished_ones_and_skips_the_rest(web, site):
    source, pages = wait_crawled(web, _add(web, f"{site.url}/")["id"])
    before = {p["url"]: p for p in pages}
    title, body = site.pages["/shipping"]
    site.pages["/shipping"] = (title, body.replace("four business days", "two business days"))
    del site.pages["/returns"]

    r = web.post(f"/api/sources/{source['id']}/recrawl")
    assert r.status_code == 202, r.text
    again = web.post(f"/api/sources/{source['id']}/recrawl")
    assert again.status_code == 409  # one crawl at a time
    source, pages = wait_crawled(web, source["id"])

    after = {p["url"]: p for p in pages}
    assert f"{site.url}/returns" not in after, "a page gone from the site leaves the index"
    shipping = after[f"{site.url}/shipping"]
    assert shipping["id"] == before[f"{site.url}/shipping"]["id"]
    assert shipping["sha256"] != before[f"{site.url}/shipping"]["sha256"]
    assert shipping["processed_at"] > before[f"{site.url}/shipping"]["processed_at"]
    faq = f"{site.url}/faq"
    assert after[faq]["processed_at"] == before[faq]["processed_at"], "unchanged: not reindexed"

    answer = ask(web, web.chatbots[0], "How many business days do parcels to Norway take?")
    assert answer["sources"][0]["url"] == f"{site.url}/shipping"
    assert "two business days" in answer["answer"]
    returns = ask(web, web.chatbots[0], "Within how many days can unused products be returned?")
    assert all(s["url"] != f"{site.url}/returns" for s in returns["sources"])


def test_a_sitemap_index_source_reads_the_pages_it_lists(web, site):
    source, pages = wait_crawled(web, _add(web, f"{site.url}/sitemap.xml")["id"])
    assert source["status"] == "ready", source
    assert sorted(p["url"] for p in pages) == [f"{site.url}/faq", f"{site.url}/shipping"]
    answer = ask(web, web.chatbots[0], "How long are gift cards valid?")
    assert answer["sources"][0]["url"] == f"{site.url}/faq"


def test_deleting_a_source_removes_its_pages_documents_and_vectors(web, site):
    source, pages = wait_crawled(web, _add(web, f"{site.url}/")["id"])
    bot = web.chatbots[0]
    assert web.delete(f"/api/sources/{source['id']}").status_code == 204
    assert web.get(f"/api/sources/{source['id']}").status_code == 404
    assert web.get(f"/api/chatbots/{bot['id']}/documents").json() == []
    assert web.get(f"/api/chatbots/{bot['id']}/sources/url").json() == []
    answer = ask(web, bot, "How many business days do parcels to Norway take?")
    assert answer["sources"] == [] and answer["unanswered"]


def test_the_same_website_twice_is_a_conflict_and_sources_are_listed(web, site):
    first = _add(web, f"{site.url}/")
    r = web.post(
        f"/api/chatbots/{web.chatbots[0]['id']}/sources/url", json={"url": f"{site.url}/#top"}
    )
    assert r.status_code == 409
    listed = web.get(f"/api/chatbots/{web.chatbots[0]['id']}/sources/url").json()
    assert [s["id"] for s in listed] == [first["id"]]
    wait_crawled(web, first["id"])


def test_a_site_that_is_down_fails_the_crawl_with_the_reason(web, site):
    site.robots = ""
    source, _ = wait_crawled(web, _add(web, f"{site.url}/nothing-here")["id"])
    assert source["status"] == "failed"
    assert source["error"] == "No page could be read: HTTP 404"


def test_a_first_crawl_whose_only_page_failed_for_now_says_so(web, site):
    """A transient failure (a timeout, a 5xx) keeps the pages a source had; a first crawl had
    none, and once showed `ready` with no error and no page."""
    site.robots = ""
    source, _ = wait_crawled(web, _add(web, f"{site.url}/busy")["id"])
    assert source["status"] == "failed"
    assert source["error"] == "No page could be read: HTTP 503"


@contextlib.contextmanager
def _on_plan(tenant, **limits: int):
    """The tenant on a plan of its own with these limits, for the test's duration (a name of its
    own too: plans outlive tests, and other tests leave theirs)."""
    engine = tenant.client.app.state.engine
    plan = f"crawl-{uuid.uuid4().hex[:12]}"
    columns = {"max_crawl_pages": 50, "max_crawl_depth": 3, "max_page_kb": 512, **limits}
    names = ", ".join(columns)
    values = ", ".join(f":{name}" for name in columns)
    customer = (
        tenant.customer_id.replace("-", "")
        if engine.dialect.name == "sqlite"
        else tenant.customer_id
    )
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO plans (name, monthly_tokens, price_per_1k_input, price_per_1k_output,"
                f" overage_allowed, {names}) VALUES (:plan, 1000, 0, 0, false, {values})"
            ),
            {"plan": plan, **columns},
        )
        conn.execute(
            text("UPDATE customers SET plan = :plan WHERE id = :id"), {"plan": plan, "id": customer}
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE customers SET plan = 'free' WHERE plan = :plan"), {"plan": plan}
            )
            conn.execute(text("DELETE FROM plans WHERE name = :plan"), {"plan": plan})


def test_plan_limits_bound_pages_depth_and_size(web, site):
    with _on_plan(web, max_crawl_pages=2, max_crawl_depth=1, max_page_kb=1):
        source, pages = wait_crawled(web, _add(web, f"{site.url}/")["id"])
    assert source["pages_found"] == 2
    assert len(pages) <= 2
    reasons = _reasons(source)
    assert any("larger than 1 KB" in reason for reason in reasons.values()), reasons


def test_a_crawl_stops_at_the_plans_document_cap_and_says_so(web, site):
    with _on_plan(web, max_documents=2):
        source, pages = wait_crawled(web, _add(web, f"{site.url}/")["id"])
        assert len(pages) == 2
        assert source["status"] == "ready"
        assert "stores at most 2 documents" in source["error"]
        # a recrawl cut short by the cap keeps the pages it did not reach
        assert web.post(f"/api/sources/{source['id']}/recrawl").status_code == 202
        source, again = wait_crawled(web, source["id"])
    assert {p["id"] for p in again} == {p["id"] for p in pages}


def test_deleting_the_chatbot_takes_its_website_sources_along(web, site):
    source, _ = wait_crawled(web, _add(web, f"{site.url}/sitemap.xml")["id"])
    assert web.delete(f"/api/chatbots/{web.chatbots[0]['id']}").status_code == 204
    assert web.get(f"/api/sources/{source['id']}").status_code == 404


def test_a_recrawl_right_after_a_crawl_is_429(app_with, site):
    client, tenant = app_with(allow_private_urls=True)  # RECRAWL_MIN_SECONDS: 60
    bot = tenant.create_chatbot()
    r = tenant.post(f"/api/chatbots/{bot['id']}/sources/url", json={"url": f"{site.url}/faq"})
    # The 60 s count from the crawl's end, before its pages are ingested: waiting for those too
    # (wait_crawled) could take longer than that on a busy machine, and the recrawl be allowed.
    url = f"/api/sources/{r.json()['id']}"
    wait_for(
        lambda: tenant.get(url).json()["status"] not in ("queued", "crawling"),
        INGESTION_TIMEOUT,
        "the crawl",
    )
    source = tenant.get(url).json()
    assert source["status"] == "ready", source
    again = tenant.post(f"/api/sources/{source['id']}/recrawl")
    assert again.status_code == 429
    assert 1 <= int(again.headers["Retry-After"]) <= 60
    assert tenant.get(f"/api/sources/{source['id']}").json()["status"] == "ready"


def test_the_same_website_added_twice_at_once_is_one_source_and_a_conflict(web, site, monkeypatch):
    """Both requests pass the check that the chatbot has no such source before either writes
    (held there for each other): the database's constraint stops the second, answered 409 like
    the check's, not 500."""
    check_together(monkeypatch, WebsiteSourceRepository, "with_url")
    url = f"/api/chatbots/{web.chatbots[0]['id']}/sources/url"
    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(lambda _: web.post(url, json={"url": f"{site.url}/"}), "ab"))

    assert sorted(r.status_code for r in responses) == [202, 409]
    refused = next(r for r in responses if r.status_code == 409).json()["error"]
    assert refused["code"] == "conflict" and "try again" in refused["message"]
    [source] = web.get(url).json()
    wait_crawled(web, source["id"])
