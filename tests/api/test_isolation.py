"""A second customer tries every route that takes an id with the first customer's ids.

`ROUTES` must name every route with an id in its path: `test_every_id_route_is_covered` fails
when a new route is added without an isolation case here.
"""

from __future__ import annotations

import pytest

from app.billing.service import current_period
from tests.api.test_documents import wait_until_done
from tests.billing.factories import add_usage

# (method, path template, request keyword arguments); ids are filled from the victim's objects
ROUTES: list[tuple[str, str, dict]] = [
    ("GET", "/api/chatbots/{chatbot_id}", {}),
    ("PATCH", "/api/chatbots/{chatbot_id}", {"json": {"name": "stolen"}}),
    ("DELETE", "/api/chatbots/{chatbot_id}", {}),
    ("POST", "/api/chatbots/{chatbot_id}/rotate_key", {"json": {"kind": "secret"}}),
    ("DELETE", "/api/users/{user_id}", {}),
    ("PATCH", "/api/users/{user_id}", {"json": {"role": "admin"}}),
    ("DELETE", "/api/users/invitations/{invitation_id}", {}),
    ("POST", "/api/upload/{chatbot_id}", {"files": [("file", ("x.txt", b"planted text"))]}),
    ("GET", "/api/chatbots/{chatbot_id}/documents", {}),
    ("POST", "/api/chatbots/{chatbot_id}/reindex", {}),
    ("GET", "/api/documents/{document_id}", {}),
    ("GET", "/api/documents/{document_id}/chunks", {}),
    ("DELETE", "/api/documents/{document_id}", {}),
    ("POST", "/api/documents/{document_id}/reindex", {}),
    ("PATCH", "/api/documents/{document_id}", {"json": {"text": "stolen"}}),
    ("POST", "/api/chatbots/{chatbot_id}/sources/url", {"json": {"url": "http://93.184.215.14/"}}),
    ("GET", "/api/chatbots/{chatbot_id}/sources/url", {}),
    (
        "POST",
        "/api/chatbots/{chatbot_id}/sources/text",
        {"json": {"title": "t", "text": "planted"}},
    ),
    ("POST", "/api/chatbots/{chatbot_id}/sources/qa", {"json": {"question": "q", "answer": "a"}}),
    ("GET", "/api/sources/{source_id}", {}),
    ("GET", "/api/sources/{source_id}/pages", {}),
    ("POST", "/api/sources/{source_id}/recrawl", {}),
    ("DELETE", "/api/sources/{source_id}", {}),
    ("POST", "/api/{customer_id}/{chatbot_id}/query", {"json": {"question": "prices?"}}),
    ("GET", "/api/chatbots/{chatbot_id}/sessions", {}),
    ("POST", "/api/chatbots/{chatbot_id}/retrieve", {"json": {"question": "returns?"}}),
    ("GET", "/api/sessions/{session_id}/messages", {}),
    ("GET", "/api/billing/invoices/{invoice_id}", {}),
    ("GET", "/api/billing/invoices/{invoice_id}", {"params": {"format": "html"}}),
    ("GET", "/api/chatbots/{chatbot_id}/analytics", {}),
    (
        "POST",
        "/api/chatbots/{chatbot_id}/feedback",
        {"json": {"message_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "rating": "down"}},
    ),
    ("GET", "/api/chatbots/{chatbot_id}/snippet", {}),
    ("GET", "/api/chatbots/{chatbot_id}/origin-check", {"params": {"url": "https://x.example"}}),
]

# routes authenticated by a chatbot key; see test_key_of_another_chatbot_is_refused
KEY_ROUTES = [
    ("POST", "/api/public/{chatbot_id}/query"),
    ("POST", "/api/public/{chatbot_id}/feedback"),
    # the widget's config and pages take the widget key: see tests/widget/test_widget_api.py
    ("GET", "/widget/config/{chatbot_id}"),
    ("GET", "/widget/frame/{chatbot_id}"),
    ("GET", "/widget/demo/{chatbot_id}"),
]


def _fill(path: str, ids: dict[str, str]) -> str:
    return path.format(**ids)


def _snapshot(tenant, ids: dict[str, str]) -> tuple:
    bot = tenant.get(f"/api/chatbots/{ids['chatbot_id']}").json()
    docs = tenant.get(f"/api/chatbots/{ids['chatbot_id']}/documents").json()
    users = tenant.get("/api/users").json()
    sessions = tenant.get(f"/api/chatbots/{ids['chatbot_id']}/sessions").json()
    messages = tenant.get(f"/api/sessions/{ids['session_id']}/messages").json()
    websites = tenant.get(f"/api/chatbots/{ids['chatbot_id']}/sources/url").json()
    invitations = tenant.get("/api/users/invitations").json()
    docs = [(d["id"], d["sha256"], d["filename"], d["status"]) for d in docs]
    return bot, docs, users, sessions, messages, websites, invitations


def _website(app, bot: dict) -> str:
    """A crawled website source, made in the database: crawling a real site needs loopback,
    which this app refuses, and isolation is about the rows."""
    import uuid

    from app.core.database import session_scope, utcnow
    from app.sources.models import WebsiteSource

    with session_scope(app.state.sessionmaker) as db:
        source = WebsiteSource(
            customer_id=uuid.UUID(bot["customer_id"]),
            chatbot_id=uuid.UUID(bot["id"]),
            url="https://private.example.com/",
            status="ready",
            issues=[],
            last_crawled_at=utcnow(),
        )
        db.add(source)
        db.flush()
        return str(source.id)


@pytest.fixture
def victim_ids(app, tenant) -> dict[str, str]:
    bot = tenant.create_chatbot(name="Private")
    member = tenant.add_user("member")
    r = tenant.post(
        f"/api/upload/{bot['id']}", files=[("file", ("private.txt", b"Private pricing notes."))]
    )
    # settled first, so the snapshots compare only what a refused call could have changed
    assert wait_until_done(tenant, r.json()[0]["id"])["status"] == "ready"
    asked = tenant.post(
        f"/api/{tenant.customer_id}/{bot['id']}/query", json={"question": "Private prices?"}
    )
    assert asked.status_code == 200, asked.text
    add_usage(tenant, bot, 1200, 300)
    invoice = tenant.post("/api/billing/invoices/generate", params={"period": current_period()})
    assert invoice.status_code == 201, invoice.text
    invited = tenant.post("/api/users/invitations", json={"email": "private@example.com"})
    assert invited.status_code == 201, invited.text
    return {
        "chatbot_id": bot["id"],
        "user_id": member.user_id,
        "customer_id": tenant.customer_id,
        "document_id": r.json()[0]["id"],
        "session_id": asked.json()["session_id"],
        "message_id": asked.json()["message_id"],
        "invoice_id": invoice.json()["id"],
        "secret_key": bot["secret_key"],
        "source_id": _website(app, bot),
        "invitation_id": invited.json()["id"],
    }


@pytest.mark.parametrize(("method", "path", "kwargs"), ROUTES)
def test_other_customer_gets_404_and_changes_nothing(
    tenant, other_tenant, victim_ids, method, path, kwargs
):
    before = _snapshot(tenant, victim_ids)
    r = other_tenant.client.request(
        method, _fill(path, victim_ids), headers=other_tenant.headers, **kwargs
    )
    assert r.status_code == 404, (method, path, r.text)
    assert r.json()["error"]["code"] == "not_found"
    assert "Private" not in r.text and "private" not in r.text
    assert _snapshot(tenant, victim_ids) == before


def test_lists_show_only_own_objects(tenant, other_tenant, victim_ids):
    other_tenant.create_chatbot(name="Theirs")
    assert [b["name"] for b in other_tenant.get("/api/chatbots").json()] == ["Theirs"]
    assert [u["email"] for u in other_tenant.get("/api/users").json()] == [other_tenant.email]


def test_every_id_route_is_covered(app):
    covered = {(m, p) for m, p, _ in ROUTES} | set(KEY_ROUTES)
    paths = app.openapi()["paths"]
    id_routes = [
        (method.upper(), path) for path, ops in paths.items() if "_id}" in path for method in ops
    ]
    assert len(id_routes) >= 10
    for route in id_routes:
        assert route in covered, f"no isolation case for {route}"


def test_usage_of_another_customers_chatbot_is_404(tenant, other_tenant, victim_ids):
    """`chatbot_id` is a query parameter, so test_every_id_route_is_covered cannot see it."""
    r = other_tenant.get("/api/usage", params={"chatbot_id": victim_ids["chatbot_id"]})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert "1200" not in r.text and "1500" not in r.text and "Private" not in r.text
    own = tenant.get("/api/usage", params={"chatbot_id": victim_ids["chatbot_id"]}).json()
    assert own["totals"]["total_tokens"] >= 1500


def test_dashboard_query_with_own_customer_id_and_foreign_chatbot_is_404(
    tenant, other_tenant, victim_ids
):
    r = other_tenant.post(
        f"/api/{other_tenant.customer_id}/{victim_ids['chatbot_id']}/query",
        json={"question": "prices?"},
    )
    assert r.status_code == 404


def test_key_of_another_chatbot_is_refused(tenant, other_tenant, victim_ids):
    own = other_tenant.create_chatbot(name="Theirs")
    url = f"/api/public/{victim_ids['chatbot_id']}/query"
    r = other_tenant.client.post(
        url, json={"question": "prices?"}, headers={"X-API-Key": own["secret_key"]}
    )
    assert r.status_code == 404
    assert "Private" not in r.text
    r = other_tenant.client.post(
        f"/api/public/{own['id']}/query",
        json={"question": "prices?", "session_id": victim_ids["session_id"]},
        headers={"X-API-Key": own["secret_key"]},
    )
    assert r.status_code == 404, "a session of another customer must not be continued"
    ok = tenant.client.post(
        url, json={"question": "prices?"}, headers={"X-API-Key": victim_ids["secret_key"]}
    )
    assert ok.status_code == 200


def test_feedback_only_with_the_answers_own_chatbot_key(tenant, other_tenant, victim_ids):
    own = other_tenant.create_chatbot(name="Theirs")
    rating = {"message_id": victim_ids["message_id"], "rating": "down"}
    r = other_tenant.client.post(
        f"/api/public/{victim_ids['chatbot_id']}/feedback",
        json=rating,
        headers={"X-API-Key": own["secret_key"]},
    )
    assert r.status_code == 404
    r = other_tenant.client.post(
        f"/api/public/{own['id']}/feedback", json=rating, headers={"X-API-Key": own["secret_key"]}
    )
    assert r.status_code == 404, "an answer of another customer must not be rated"
    ok = tenant.client.post(
        f"/api/public/{victim_ids['chatbot_id']}/feedback",
        json=rating,
        headers={"X-API-Key": victim_ids["secret_key"]},
    )
    assert ok.status_code == 201, ok.text


def test_staff_rate_only_their_own_customers_answers(tenant, other_tenant, victim_ids):
    own = other_tenant.create_chatbot(name="Theirs")
    rating = {"message_id": victim_ids["message_id"], "rating": "down"}
    r = other_tenant.post(f"/api/chatbots/{victim_ids['chatbot_id']}/feedback", json=rating)
    assert r.status_code == 404
    r = other_tenant.post(f"/api/chatbots/{own['id']}/feedback", json=rating)
    assert r.status_code == 404, "an answer of another customer must not be rated"
    ok = tenant.post(f"/api/chatbots/{victim_ids['chatbot_id']}/feedback", json=rating)
    assert ok.status_code == 201, ok.text


def test_public_doors_declare_their_key_security_in_openapi(client):
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ChatbotKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["ChatbotKey"]["description"],
    }
    assert schemes["ChatbotBearer"]["scheme"] == "bearer"
    for method, path in [
        ("post", "/api/public/{chatbot_id}/query"),
        ("post", "/api/public/{chatbot_id}/feedback"),
        ("post", "/v1/chat/completions"),
        ("get", "/v1/models"),
    ]:
        security = spec["paths"][path][method]["security"]
        assert {"ChatbotKey": []} in security and {"ChatbotBearer": []} in security, path
    dashboard = spec["paths"]["/api/chatbots"]["get"]["security"]
    assert dashboard == [{"OAuth2PasswordBearer": []}]


def test_a_key_subject_sees_only_its_own_chatbot(app, tenant):
    """Repositories scope a key to its chatbot, not to the whole customer."""
    import uuid

    from app.chat.repository import ChatSessionRepository
    from app.chatbots.deps import find_key
    from app.chatbots.repository import ChatbotRepository
    from app.core.errors import NotFound
    from app.core.subjects import KeySubject

    mine, sibling = tenant.create_chatbot(), tenant.create_chatbot(name="Sibling")
    with app.state.sessionmaker() as db:
        key = find_key(db, mine["secret_key"])
        subject = KeySubject(key.id, key.kind, key.customer_id, key.chatbot_id)
        bots = ChatbotRepository(db)
        assert [b.id for b in bots.list(subject)] == [uuid.UUID(mine["id"])]
        with pytest.raises(NotFound):
            bots.get(subject, uuid.UUID(sibling["id"]))
        assert ChatSessionRepository(db).of_chatbot(subject, uuid.UUID(sibling["id"])) == []
