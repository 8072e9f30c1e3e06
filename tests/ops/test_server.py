"""What an operator sees of a running server: request ids, JSON logs, `/metrics`, and the public
address derived from the port it was started on. One real server (uvicorn, SQLite, JSON logs)
for the whole module."""

from __future__ import annotations

import re
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.conftest import LOG_TIMEOUT, Server, register_owner
from tests.ops.documents import manual
from tests.servers import wait_for

DOCUMENT_ROUTE = "/api/documents/{document_id}"


def scrape(server: Server) -> dict[tuple[str, frozenset], float]:
    r = httpx.get(server.url + "/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(r.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_request_id_from_caller_is_returned_quoted_in_errors_and_logged(server: Server) -> None:
    r = httpx.get(f"{server.url}/api/documents/{uuid.uuid4()}", headers={"X-Request-ID": "lb-7.a"})

    assert r.status_code == 401
    assert r.headers["x-request-id"] == "lb-7.a"
    assert r.json()["error"] == {
        "code": "unauthorized",
        "message": r.json()["error"]["message"],
        "request_id": "lb-7.a",
    }
    # the access line is written once the response has been sent
    log = server.wait_for_json_log(
        lambda entries: any(e.get("request_id") == "lb-7.a" for e in entries),
        "the request's log line",
    )
    [line] = [e for e in log if e.get("request_id") == "lb-7.a"]
    assert line["logger"] == "app.access"
    assert line["route"] == DOCUMENT_ROUTE and line["status"] == 401 and line["method"] == "GET"
    assert line["message"].startswith(f"GET {DOCUMENT_ROUTE} 401 ")
    assert line["duration_ms"] >= 0


def test_unusable_request_id_is_replaced_by_a_new_one(server: Server) -> None:
    for sent in ("a" * 200, "two words", "<script>"):
        r = httpx.get(server.url + "/no-such-page", headers={"X-Request-ID": sent})

        assert r.status_code == 404
        request_id = r.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        assert r.json()["error"]["request_id"] == request_id


def test_every_log_line_is_json_and_request_lines_carry_their_id(server: Server) -> None:
    owner = register_owner(server.url)
    created = owner.post("/api/chatbots", json={"name": "Ops bot"})
    assert created.status_code == 201, created.text
    last = created.headers["x-request-id"]

    # every line parses, uvicorn's own included; read once the last request's line is written
    log = server.wait_for_json_log(
        lambda entries: any(
            e.get("request_id") == last and e["logger"] == "app.access" for e in entries
        ),
        "the last request's access line",
    )

    assert {"time", "level", "logger", "message", "request_id"} <= set(log[-1])
    assert any(e["logger"].startswith("uvicorn") for e in log)
    requests = [e for e in log if e["logger"] == "app.access"]
    assert requests and all(
        re.fullmatch(r"[0-9a-f]{32}|lb-7\.a", e["request_id"]) for e in requests
    )
    assert len({e["request_id"] for e in requests}) == len(requests)
    assert not any(e["logger"] == "uvicorn.access" for e in log)  # ours replaces it


def test_metrics_time_requests_by_route_template_never_raw_path(server: Server) -> None:
    owner = register_owner(server.url)
    missing = uuid.uuid4()
    assert owner.get(f"/api/documents/{missing}").status_code == 404
    assert httpx.get(server.url + "/no-such-page").status_code == 404

    samples = scrape(server)
    page = httpx.get(server.url + "/metrics").text

    count = "http_request_duration_seconds_count"
    assert value(samples, count, method="GET", route=DOCUMENT_ROUTE, status="4xx") >= 1
    assert value(samples, count, method="POST", route="/auth/register", status="2xx") >= 1
    assert value(samples, count, method="GET", route="unmatched", status="4xx") >= 1
    assert str(missing) not in page and "/no-such-page" not in page


def test_metrics_count_ingestion_and_engine_queue_time_after_a_real_upload(server: Server) -> None:
    owner = register_owner(server.url)
    bot = owner.create_chatbot()
    before = scrape(server)

    doc = owner.upload(bot["id"], "manual.txt", manual(sections=12))
    waiting = scrape(server)
    ready = owner.wait_for_document(doc["id"], "ready")
    finished = "ingestion_documents_total"
    # the document shows `ready` a moment before its ingestion's end is counted
    wait_for(
        lambda: (
            value(scrape(server), finished, outcome="ready")
            > value(before, finished, outcome="ready")
        ),
        LOG_TIMEOUT,
        "the finished document to be counted",
    )
    answer = httpx.post(
        f"{server.url}/api/public/{bot['id']}/query",
        headers={"X-API-Key": bot["secret_key"]},
        json={"question": "How do I reset the pump?"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    after = scrape(server)

    assert (
        value(waiting, "ingestion_queue_depth", status="queued")
        + value(waiting, "ingestion_queue_depth", status="processing")
        == 1
    )
    assert value(after, "ingestion_queue_depth", status="queued") == 0
    assert value(after, "ingestion_queue_depth", status="processing") == 0
    assert value(after, finished, outcome="ready") - value(before, finished, outcome="ready") == 1
    chunks = "ingestion_chunks_embedded_total"
    assert value(after, chunks) - value(before, chunks) == ready["chunks_total"] > 4
    assert value(after, "ingestion_document_duration_seconds_count") >= 1
    waited = "embedding_queue_wait_seconds_count"
    # passages are embedded by the low-priority ingestion process, whose engine has no queue to
    # share with questions; the server's engine embeds questions only
    assert value(after, waited, kind="passages") == value(before, waited, kind="passages")
    assert value(after, waited, kind="query") - value(before, waited, kind="query") >= 1


def test_ingestion_logs_say_when_a_document_starts_and_finishes(server: Server) -> None:
    owner = register_owner(server.url)
    bot = owner.create_chatbot()
    doc = owner.upload(bot["id"], "notes.txt", manual(sections=2, title="Release notes"))
    ready = owner.wait_for_document(doc["id"], "ready")
    finished = f"document {doc['id']}: finished, "  # logged just after the document is ready
    log = server.wait_for_json_log(
        lambda entries: any(e["message"].startswith(finished) for e in entries),
        "the document's last log line",
    )

    lines = [e for e in log if e.get("document_id") == doc["id"]]

    assert lines[0]["message"].startswith(f"document {doc['id']}: started (notes.txt, txt")
    assert lines[-1]["message"].startswith(f"document {doc['id']}: finished, ")
    assert lines[-1]["chunks"] == ready["chunks_total"] and lines[-1]["seconds"] > 0


def test_snippet_and_pages_use_the_address_the_server_was_started_on(server: Server) -> None:
    base = f"http://127.0.0.1:{server.port}"  # its health was probed with a forged Host header
    owner = register_owner(server.url)
    bot = owner.create_chatbot()

    snippet = owner.get(f"/api/chatbots/{bot['id']}/snippet").json()
    demo = httpx.get(snippet["demo_url"])
    frame = httpx.get(snippet["iframe_url"])

    assert f'src="{base}/widget.js?v=' in snippet["script"]
    assert snippet["iframe_url"].startswith(f"{base}/widget/frame/{bot['id']}?key=")
    assert snippet["demo_url"].startswith(f"{base}/widget/demo/{bot['id']}?key=")
    assert demo.status_code == 200 and f'src="{base}/widget.js?v=' in demo.text
    assert frame.status_code == 200 and base in frame.text
    assert "attacker" not in snippet["script"] + demo.text + frame.text
