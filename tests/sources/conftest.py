from __future__ import annotations

import time

import pytest

from tests.api.test_documents import INGESTION_TIMEOUT, wait_until_done
from tests.sources.site import serve_site


@pytest.fixture
def site():
    with serve_site() as running:
        yield running


@pytest.fixture
def web(app_with):
    """An app that may crawl loopback (ALLOW_PRIVATE_URLS), and a tenant of it with a chatbot."""
    client, tenant = app_with(allow_private_urls=True, recrawl_min_seconds=0)
    tenant.create_chatbot(name="Shop assistant")
    return tenant


def wait_crawled(
    tenant, source_id: str, timeout: float = INGESTION_TIMEOUT
) -> tuple[dict, list[dict]]:
    """The source once crawled and every page's document once ingested."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        source = tenant.get(f"/api/sources/{source_id}").json()
        if source["status"] in ("ready", "failed"):
            pages = tenant.get(f"/api/sources/{source_id}/pages").json()
            if all(p["status"] in ("ready", "failed") for p in pages):
                return tenant.get(f"/api/sources/{source_id}").json(), pages
        time.sleep(0.2)
    raise AssertionError(f"website {source_id} not crawled in {timeout} s: {source}")


wait_document = wait_until_done


def ask(tenant, chatbot: dict, question: str) -> dict:
    """The public door, with the chatbot's secret key."""
    r = tenant.client.post(
        f"/api/public/{chatbot['id']}/query",
        json={"question": question},
        headers={"X-API-Key": chatbot["secret_key"]},
    )
    assert r.status_code == 200, r.text
    return r.json()
