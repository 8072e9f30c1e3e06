"""Scale-out ingestion: Celery workers on the real Redis, writing to a real Chroma server."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis
from fastapi.testclient import TestClient

from app.core.vectors import vector_store_for
from app.main import create_app
from tests.api.test_documents import INGESTION_TIMEOUT, TEXT, upload, wait_until_done
from tests.conftest import login
from tests.servers import chroma_server, start_celery_worker
from tests.sources.conftest import ask, wait_crawled
from tests.sources.site import serve_site

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def scaled(make_settings, tmp_path, database_url):
    """An API configured for Celery + a Chroma server, and a way to start workers."""
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.ConnectionError:
        pytest.fail(f"Redis does not answer at {REDIS_URL}")
    with chroma_server(tmp_path / "chroma") as port:
        settings = make_settings(
            celery_broker_url=REDIS_URL,
            chroma_host="127.0.0.1",
            chroma_port=port,
            celery_visibility_timeout=3,
            allow_private_urls=True,  # website sources served on loopback
        )
        env = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": settings.secret_key,
            "CELERY_BROKER_URL": REDIS_URL,
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(port),
            "CELERY_VISIBILITY_TIMEOUT": "3",
            "ALLOW_PRIVATE_URLS": "true",
            "UPLOAD_DIR": str(settings.upload_dir),
            "HF_HUB_OFFLINE": "1",
        }
        workers = []

        def start_worker():
            proc = start_celery_worker(env, tmp_path / "worker.log")
            workers.append(proc)
            return proc

        app = create_app(settings)
        try:
            with TestClient(app) as client:
                yield client, settings, start_worker
        finally:
            for proc in workers:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            from tests.conftest import wipe

            wipe(app.state.engine)


def _owner(client):
    r = client.post(
        "/auth/register",
        json={"email": "ops@example.com", "password": "long-password", "customer_name": "Ops"},
    )
    assert r.status_code == 201
    return login(client, "ops@example.com", "long-password")


def test_celery_worker_ingests_into_the_chroma_server(scaled):
    client, settings, start_worker = scaled
    tenant = _owner(client)
    bot = tenant.create_chatbot()
    doc = upload(tenant, bot["id"], "policy.txt", TEXT.encode()).json()[0]
    start_worker()
    done = wait_until_done(tenant, doc["id"])
    assert done["status"] == "ready", done
    store = vector_store_for(settings)
    assert store.count(bot["id"], document_id=doc["id"]) == done["chunk_count"]


def test_killed_worker_document_is_picked_up_again_without_duplicates(scaled):
    client, settings, start_worker = scaled
    tenant = _owner(client)
    bot = tenant.create_chatbot(settings={"chunk_size": 200, "chunk_overlap": 0})
    # ~120 chunks: long enough (several seconds on 2 cores) to kill the worker in the middle
    paragraphs = [
        f"Paragraph {i} explains rule number {i} of the handbook. " * 3 for i in range(120)
    ]
    doc = upload(tenant, bot["id"], "handbook.txt", "\n\n".join(paragraphs).encode()).json()[0]
    first = start_worker()
    deadline = time.monotonic() + INGESTION_TIMEOUT
    while time.monotonic() < deadline:
        state = tenant.get(f"/api/documents/{doc['id']}").json()
        if state["status"] == "processing" and state["chunks_done"] > 0:
            break
        time.sleep(0.05)
    assert state["status"] == "processing", state
    assert state["chunks_done"] < state["chunks_total"], "document finished before the kill"
    first.send_signal(signal.SIGKILL)
    first.wait()

    start_worker()
    done = wait_until_done(tenant, doc["id"])
    assert done["status"] == "ready", done
    store = vector_store_for(settings)
    assert store.count(bot["id"]) == done["chunk_count"]
    assert store.count(bot["id"], document_id=doc["id"]) == done["chunk_count"]


def test_celery_worker_crawls_a_website_and_ingests_its_pages(scaled):
    client, settings, start_worker = scaled
    tenant = _owner(client)
    bot = tenant.create_chatbot()
    start_worker()
    with serve_site() as site:
        r = tenant.post(f"/api/chatbots/{bot['id']}/sources/url", json={"url": f"{site.url}/"})
        assert r.status_code == 202, r.text
        source, pages = wait_crawled(tenant, r.json()["id"])
    assert source["status"] == "ready", source
    assert {p["status"] for p in pages} == {"ready"} and len(pages) == 4
    answer = ask(tenant, bot, "How many business days do parcels to Norway take?")
    assert answer["sources"][0]["url"] == f"{site.url}/shipping"
