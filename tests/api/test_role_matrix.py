"""Every route × every kind of caller, with the status each must get.

`MATRIX` has a row per route the app declares (a route may have more than one row, e.g. an
invoice as JSON and as HTML) saying what each caller gets: the route's success status, or the
refusal. `test_every_route_has_a_row` fails when a route is added without a row, so who may call
a new route is decided here, in one table, not left to chance.

`test_each_caller_gets_its_rows_status` builds a victim customer (owner, admin, member, a chatbot
with its keys, a document, a website source, a conversation, an invoice) and a second customer,
then makes every row's request as one caller, with the victim's ids in the path. Every refusal is
wrapped in a snapshot of the whole database, the stored files and the vector counts, taken when
no ingestion or crawl is running: a refused call must change nothing at all. Allowed calls that
destroy (delete, rotate a key) run last, in an order that keeps the earlier ones meaningful.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.billing.service import current_period
from app.chatbots.models import Chatbot
from app.core.database import Base, utcnow
from app.core.vectors import vector_store_for
from app.customers.models import Invitation
from app.documents.models import Document
from app.mail.models import OutboxEmail
from app.sources.models import WebsiteSource
from tests.billing.factories import add_usage
from tests.conftest import Tenant, operator_db

OWNER, ADMIN, MEMBER = "owner", "admin", "member"
SECRET, WIDGET, VISITOR = "secret_key", "widget_key", "visitor_token"
ANONYMOUS, OTHER = "anonymous", "other_customer"
CALLERS = (OWNER, ADMIN, MEMBER, SECRET, WIDGET, VISITOR, ANONYMOUS, OTHER)
USERS = (OWNER, ADMIN, MEMBER)
KEYS = (SECRET, WIDGET, VISITOR)

# the TestClient's own address: the API's origin, from which the preview page's widget calls
API_ORIGIN = "http://testserver"
SHOP = "https://shop.example.com"
# a word only the victim's objects hold: no answer to the other customer may contain it
MARKER = "Zanzibar"
PASSWORD = "correct horse battery"

# Routes with no row, and why: none reads or writes a customer's data.
EXCLUDED_PATHS = {
    "/openapi.json": "the API's description, public by design (FastAPI's own route)",
    "/docs": "Swagger UI, a static page over /openapi.json (FastAPI's own route)",
    "/docs/oauth2-redirect": "Swagger UI's OAuth2 redirect page (FastAPI's own route)",
    "/redoc": "ReDoc, a static page over /openapi.json (FastAPI's own route)",
    "/": "a redirect to /dashboard/",
    "/dashboard": "a redirect to /dashboard/",
    "/dashboard/{path:path}": "the dashboard's built files; the app calls the API with the user's "
    "token, which the rows here cover",
}


# --- who gets what ----------------------------------------------------------------------------
# Each helper names an access rule and returns the status of every caller under it. `other` is
# what the other customer gets: 404 for the victim's ids, or the success status when the route
# acts on the caller's own customer (lists, creation, its own billing).


def public(ok: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, ok)


def signed_in(ok: int, *, other: int = 404) -> dict[str, int]:
    """Any user of the customer (`CurrentUser`); a chatbot key is no sign-in."""
    return {**dict.fromkeys(USERS, ok), **dict.fromkeys(KEYS, 401), ANONYMOUS: 401, OTHER: other}


def staff(ok: int, *, admin: int | None = None, other: int = 404) -> dict[str, int]:
    """Owners and admins (`StaffUser`); `admin` when the service refuses admins this one."""
    return {**signed_in(ok, other=other), ADMIN: admin or ok, MEMBER: 403}


def owner_only(ok: int, *, other: int = 404) -> dict[str, int]:
    return {**signed_in(ok, other=other), ADMIN: 403, MEMBER: 403}


def chatbot_key(ok: int) -> dict[str, int]:
    """The path's chatbot's secret key, or its widget key from an allowed page (`ChatbotKey`);
    a user's JWT sent as the key is no key."""
    return {**dict.fromkeys(USERS, 401), **dict.fromkeys(KEYS, ok), ANONYMOUS: 401, OTHER: 404}


def secret_only(ok: int, *, other: int = 404) -> dict[str, int]:
    """A secret key (`SecretKey`): widget keys may only ask questions."""
    return {**chatbot_key(ok), WIDGET: 403, VISITOR: 403, OTHER: other}


def widget_page(ok: int) -> dict[str, int]:
    """The widget key in the query string (`WidgetKey`); a secret key must never be in a page."""
    return {**chatbot_key(ok), SECRET: 403}


# --- the victim's world -----------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """What a caller sends with every request: its credentials, wherever it holds them."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class World:
    """The victim customer's objects and everyone who calls about them."""

    app: FastAPI
    client: TestClient
    owner_email: str
    ids: dict[str, str]
    callers: dict[str, Caller]
    dead_site: str


# a row's request arguments (body, query), made from the world when the row runs
RequestArgs = Callable[[World], dict[str, Any]]


def _no_body(world: World) -> dict[str, Any]:
    return {}


def _json(body: dict[str, Any]) -> RequestArgs:
    return lambda world: {"json": body}


def _fresh_email() -> str:
    return f"new-{uuid.uuid4().hex[:8]}@example.com"


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, int]
    request: RequestArgs = _no_body
    # 0: runs in the first pass; n > 0: destroys what later rows need, runs after every 0 in
    # ascending n (the chatbot, then the whole account, go last)
    last: int = 0

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _rating(world: World) -> dict[str, Any]:
    return {"json": {"message_id": world.ids["message_id"], "rating": "down"}}


MATRIX: list[Row] = [
    # health, metrics and the widget's script: no credentials, no customer data
    Row("GET", "/health", public(200)),
    Row("GET", "/metrics", public(200)),
    Row("GET", "/widget.js", public(200)),
    # signing up and in: the body is the credential
    Row(
        "POST",
        "/auth/register",
        public(201),
        lambda w: {"json": {"email": _fresh_email(), "password": PASSWORD, "customer_name": "N"}},
    ),
    Row(
        "POST",
        "/auth/token",
        public(200),
        lambda w: {"data": {"username": w.owner_email, "password": PASSWORD}},
    ),
    Row(
        "POST",
        "/auth/login",
        public(200),
        lambda w: {"json": {"email": w.owner_email, "password": PASSWORD}},
    ),
    Row("GET", "/auth/me", signed_in(200, other=200)),
    # password reset and address verification: the emailed token is the credential, and asking
    # for a reset says the same for any address
    Row(
        "POST",
        "/auth/password/forgot",
        public(202),
        lambda w: {"json": {"email": _fresh_email()}},
    ),
    Row(
        "POST",
        "/auth/password/reset",
        public(400),
        _json({"token": "not-a-real-token", "password": PASSWORD}),
    ),
    Row("POST", "/auth/verify-email", public(400), _json({"token": "not-a-real-token"})),
    Row("POST", "/auth/verify-email/resend", signed_in(202, other=202)),
    # the team
    Row("GET", "/api/users", staff(200, other=200)),
    # the outbox's delivery list: each owner sees its own customer's
    Row("GET", "/api/emails", owner_only(200, other=200)),
    Row(
        "POST",
        "/api/users",
        staff(201, other=201),
        lambda w: {"json": {"email": _fresh_email(), "password": PASSWORD, "role": "member"}},
    ),
    Row(
        "POST",
        "/api/users",
        staff(201, admin=403, other=201),
        lambda w: {"json": {"email": _fresh_email(), "password": PASSWORD, "role": "admin"}},
    ),
    Row("PATCH", "/api/users/{user_id}", staff(200, admin=403), _json({"role": "admin"}), last=2),
    Row(
        "POST",
        "/api/users/invitations",
        staff(201, other=201),
        lambda w: {"json": {"email": _fresh_email(), "role": "member"}},
    ),
    Row(
        "POST",
        "/api/users/invitations",
        staff(201, admin=403, other=201),
        lambda w: {"json": {"email": _fresh_email(), "role": "admin"}},
    ),
    Row("GET", "/api/users/invitations", staff(200, other=200)),
    Row("DELETE", "/api/users/invitations/{invitation_id}", staff(204)),
    # an invitation's link: the token in the body is the credential (inspected, then accepted)
    Row(
        "POST",
        "/auth/invitations/inspect",
        public(200),
        lambda w: {"json": {"token": w.ids["invitation_token"]}},
    ),
    Row(
        "POST",
        "/auth/invitations/accept",
        public(201),
        lambda w: {"json": {"token": w.ids["invitation_token"], "password": PASSWORD}},
    ),
    Row("DELETE", "/api/users/{user_id}", staff(204), last=3),
    # chatbots
    Row("POST", "/api/chatbots", staff(201, other=201), _json({"name": "Another bot"})),
    Row("GET", "/api/chatbots", signed_in(200, other=200)),
    Row("GET", "/api/chatbots/{chatbot_id}", signed_in(200)),
    Row("PATCH", "/api/chatbots/{chatbot_id}", staff(200), _json({"description": "edited"})),
    Row(
        "POST",
        "/api/chatbots/{chatbot_id}/rotate_key",
        staff(200),
        _json({"kind": "secret"}),
        last=1,
    ),
    Row(
        "GET",
        "/api/chatbots/{chatbot_id}/origin-check",
        signed_in(200),
        lambda w: {"params": {"url": SHOP}},
    ),
    Row("DELETE", "/api/chatbots/{chatbot_id}", staff(204), last=6),
    # documents
    Row(
        "POST",
        "/api/upload/{chatbot_id}",
        staff(202),
        lambda w: {"files": [("file", ("planted.txt", b"Planted notes about the prices."))]},
    ),
    Row("GET", "/api/chatbots/{chatbot_id}/documents", signed_in(200)),
    Row("GET", "/api/documents/{document_id}", signed_in(200)),
    Row("GET", "/api/documents/{document_id}/chunks", signed_in(200)),
    Row("POST", "/api/documents/{document_id}/reindex", staff(202)),
    Row("POST", "/api/chatbots/{chatbot_id}/reindex", staff(202)),
    Row("DELETE", "/api/documents/{document_id}", staff(204), last=4),
    # text, Q&A and website sources
    Row(
        "POST",
        "/api/chatbots/{chatbot_id}/sources/text",
        staff(202),
        _json({"title": "Planted", "text": "Planted text about the prices."}),
    ),
    Row(
        "POST",
        "/api/chatbots/{chatbot_id}/sources/qa",
        staff(202),
        _json({"question": "Planted?", "answer": "Planted answer."}),
    ),
    Row(
        "PATCH",
        "/api/documents/{document_id}",
        staff(202),
        _json({"text": f"{MARKER} price list, edited: the blender costs 99 euros."}),
    ),
    Row(
        "POST",
        "/api/chatbots/{chatbot_id}/sources/url",
        staff(202),
        lambda w: {"json": {"url": f"{w.dead_site}/another-page"}},
    ),
    Row("GET", "/api/chatbots/{chatbot_id}/sources/url", signed_in(200)),
    Row("GET", "/api/sources/{source_id}", signed_in(200)),
    Row("GET", "/api/sources/{source_id}/pages", signed_in(200)),
    Row("POST", "/api/sources/{source_id}/recrawl", staff(202)),
    Row("DELETE", "/api/sources/{source_id}", staff(204), last=5),
    # questions and history
    Row("POST", "/api/public/{chatbot_id}/query", chatbot_key(200), _json({"question": "price?"})),
    Row(
        "POST",
        "/api/{customer_id}/{chatbot_id}/query",
        signed_in(200),
        _json({"question": "What does the blender cost?"}),
    ),
    Row(
        "POST",
        "/api/chatbots/{chatbot_id}/retrieve",
        signed_in(200),
        _json({"question": "What does the blender cost?"}),
    ),
    Row("GET", "/api/chatbots/{chatbot_id}/sessions", signed_in(200)),
    Row("GET", "/api/sessions/{session_id}/messages", signed_in(200)),
    # the other customer's secret key lists its own chatbot
    Row("GET", "/v1/models", secret_only(200, other=200)),
    Row(
        "POST",
        "/v1/chat/completions",
        secret_only(200),
        lambda w: {
            "json": {
                "model": w.ids["chatbot_id"],
                "messages": [{"role": "user", "content": "What does the blender cost?"}],
            }
        },
    ),
    # usage, billing and invoices
    Row("GET", "/api/usage", signed_in(200, other=200)),
    Row(
        "GET",
        "/api/usage",
        signed_in(200),
        lambda w: {"params": {"chatbot_id": w.ids["chatbot_id"]}},
    ),
    Row("GET", "/api/usage/summary", signed_in(200, other=200)),
    Row("GET", "/api/billing/info", staff(200, other=200)),
    Row("PATCH", "/api/billing/info", owner_only(200, other=200), _json({"address": "1 Quay"})),
    # the other customer has no usage of its own, so nothing to invoice: 422
    Row(
        "POST",
        "/api/billing/invoices/generate",
        owner_only(200, other=422),
        lambda w: {"params": {"period": current_period()}},
    ),
    Row("GET", "/api/billing/invoices", owner_only(200, other=200)),
    Row("GET", "/api/billing/invoices/{invoice_id}", owner_only(200)),
    Row(
        "GET",
        "/api/billing/invoices/{invoice_id}",
        owner_only(200),
        lambda w: {"params": {"format": "html"}},
    ),
    # the account as a whole: the other customer exports its own; deleting needs the caller's
    # own customer's name, and the victim's ("Acme") is not the other's (422)
    Row("GET", "/api/account/export", owner_only(200, other=200)),
    Row(
        "DELETE",
        "/api/account",
        owner_only(204, other=422),
        _json({"password": PASSWORD, "confirm": "Acme"}),
        last=7,
    ),
    # analytics and ratings: each caller's world has one answer, rated at most once by it
    Row("GET", "/api/chatbots/{chatbot_id}/analytics", signed_in(200)),
    Row("POST", "/api/public/{chatbot_id}/feedback", chatbot_key(201), _rating),
    Row("POST", "/api/chatbots/{chatbot_id}/feedback", staff(201), _rating),
    # the widget
    Row("GET", "/api/chatbots/{chatbot_id}/snippet", signed_in(200)),
    Row("GET", "/widget/config/{chatbot_id}", widget_page(200)),
    Row("GET", "/widget/frame/{chatbot_id}", widget_page(200)),
    Row("GET", "/widget/demo/{chatbot_id}", widget_page(200)),
]


@pytest.fixture
def settings(make_settings):
    """The API's origin is known (the preview page's widget calls from it with its visitor
    token), and website sources may be on loopback, so an allowed crawl needs no internet."""
    return make_settings(public_base_url=API_ORIGIN, allow_private_urls=True, recrawl_min_seconds=0)


def _website(app: FastAPI, bot: dict, url: str) -> str:
    """A website source as a finished crawl leaves it, made in the database: a real crawl needs
    a site, and authorization is about the rows."""
    with operator_db(app) as db:
        source = WebsiteSource(
            customer_id=uuid.UUID(bot["customer_id"]),
            chatbot_id=uuid.UUID(bot["id"]),
            url=url,
            status="ready",
            issues=[],
            last_crawled_at=utcnow() - timedelta(days=1),
        )
        db.add(source)
        db.flush()
        return str(source.id)


def _visitor_token(client: TestClient, bot: dict) -> str:
    """The token the API's preview page is served with, as its widget reads it."""
    page = client.get(f"/widget/demo/{bot['id']}", params={"key": bot["widget_key"]})
    assert page.status_code == 200, page.text
    match = re.search(r'data-visitor-token="([^"]+)"', page.text)
    assert match, "the preview page carries no visitor token"
    return match.group(1)


def _bearer(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.token}"}


@pytest.fixture
def dead_site() -> Iterator[str]:
    """A loopback address that refuses connections: its port is held bound but never listens,
    so an allowed crawl fails at once, off the internet, and no other process can take it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


def _victim_ids(app: FastAPI, tenant: Tenant, bot: dict, dead_site: str) -> dict[str, str]:
    """One object of each kind a path can name, settled: the document ingested, the answer
    recorded, the invoice drafted."""
    colleague = tenant.add_user("member")  # the user whom the user routes change and delete
    doc = tenant.post(
        f"/api/chatbots/{bot['id']}/sources/text",
        json={"title": f"{MARKER} prices", "text": f"{MARKER} price list: the blender costs 89."},
    )
    assert doc.status_code == 202, doc.text
    _settle(app)
    asked = tenant.post(
        f"/api/{tenant.customer_id}/{bot['id']}/query", json={"question": "blender price?"}
    )
    assert asked.status_code == 200, asked.text
    add_usage(tenant, bot, 1200, 300)
    invoice = tenant.post("/api/billing/invoices/generate", params={"period": current_period()})
    assert invoice.status_code == 201, invoice.text
    link_token = secrets.token_urlsafe(32)  # the link of an invitation to accept
    _invitation(app, tenant, link_token)
    return {
        "chatbot_id": bot["id"],
        "user_id": colleague.user_id,
        "customer_id": tenant.customer_id,
        "document_id": doc.json()["id"],
        "session_id": asked.json()["session_id"],
        "message_id": asked.json()["message_id"],
        "invoice_id": invoice.json()["id"],
        "source_id": _website(app, bot, f"{dead_site}/"),
        "invitation_id": _invitation(app, tenant, secrets.token_urlsafe(32)),
        "invitation_token": link_token,
    }


def _invitation(app: FastAPI, tenant: Tenant, token: str) -> str:
    """A member's invitation whose link carries `token`, made in the database: the token is
    otherwise only in the email."""
    with operator_db(app) as db:
        invitation = Invitation(
            customer_id=uuid.UUID(tenant.customer_id),
            email=_fresh_email(),
            role="member",
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=utcnow() + timedelta(days=7),
        )
        db.add(invitation)
        db.flush()
        return str(invitation.id)


def _callers(client: TestClient, tenant: Tenant, bot: dict, other: Tenant) -> dict[str, Caller]:
    theirs = other.create_chatbot(name="Theirs", allowed_origins=[SHOP])
    widget = {"X-API-Key": bot["widget_key"]}
    return {
        OWNER: Caller(_bearer(tenant)),
        ADMIN: Caller(_bearer(tenant.add_user("admin"))),
        MEMBER: Caller(_bearer(tenant.add_user("member"))),
        # each key also in `key=`, where the widget's pages take it
        SECRET: Caller({"X-API-Key": bot["secret_key"]}, {"key": bot["secret_key"]}),
        WIDGET: Caller({**widget, "Origin": SHOP}, {"key": bot["widget_key"]}),
        # the widget on the API's own preview page: the API's origin, with the page's token
        VISITOR: Caller(
            {**widget, "Origin": API_ORIGIN, "X-Visitor-Token": _visitor_token(client, bot)},
            {"key": bot["widget_key"]},
        ),
        ANONYMOUS: Caller(),
        # everything the other customer holds: its owner's JWT, its own chatbot's keys
        OTHER: Caller(
            {**_bearer(other), "X-API-Key": theirs["secret_key"]}, {"key": theirs["widget_key"]}
        ),
    }


@pytest.fixture
def world(app, client, tenant, other_tenant, dead_site) -> World:
    bot = tenant.create_chatbot(name=f"{MARKER} private bot", allowed_origins=[SHOP])
    return World(
        app,
        client,
        tenant.email,
        _victim_ids(app, tenant, bot, dead_site),
        _callers(client, tenant, bot, other_tenant),
        dead_site,
    )


# --- making the calls and watching what they change -------------------------------------------

SETTLE_SECONDS = 300
BUSY_DOCUMENTS = ("queued", "processing")
BUSY_WEBSITES = ("queued", "crawling")
# informational, written with the answers of allowed calls (at most once a minute per key)
VOLATILE_COLUMNS = {("api_keys", "last_used_at")}


def _busy(app: FastAPI) -> list[str]:
    with operator_db(app) as db:
        docs = db.scalars(select(Document.filename).where(Document.status.in_(BUSY_DOCUMENTS)))
        sites = db.scalars(select(WebsiteSource.url).where(WebsiteSource.status.in_(BUSY_WEBSITES)))
        mail = db.scalars(select(OutboxEmail.kind).where(OutboxEmail.status == "pending"))
        return [*docs, *sites, *mail]


def _settle(app: FastAPI) -> None:
    """Wait until no document is being ingested, no website crawled and no email waits in the
    outbox: their rows, files and vectors move on their own until then, and a snapshot must see
    only what a call did."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while busy := _busy(app):
        if time.monotonic() > deadline:
            raise AssertionError(f"still ingesting or crawling after {SETTLE_SECONDS} s: {busy}")
        time.sleep(0.05)


def _snapshot(app: FastAPI) -> dict[str, Any]:
    """Every row of every table (the victim's and everyone else's), the stored files and each
    chatbot's vector count: what any refused call could have changed."""
    state: dict[str, Any] = {}
    with operator_db(app) as db:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE_COLUMNS]
            rows = db.execute(select(*columns)).all()
            state[table.name] = sorted((tuple(row) for row in rows), key=repr)
        bots = list(db.scalars(select(Chatbot.id)))
    settings = app.state.settings
    uploads = Path(settings.upload_dir)
    state["files"] = sorted(
        (str(p.relative_to(uploads)), p.stat().st_size) for p in uploads.rglob("*") if p.is_file()
    )
    store = vector_store_for(settings)
    state["vectors"] = {str(bot): store.count(bot) for bot in bots}
    return state


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def _call(world: World, caller: Caller, row: Row) -> httpx.Response:
    kwargs = row.request(world)
    headers = {**caller.headers, **kwargs.pop("headers", {})}
    params = {**caller.params, **kwargs.pop("params", {})}
    url = row.path.format(**world.ids)
    return world.client.request(row.method, url, headers=headers, params=params, **kwargs)


def _run(world: World, who: str, row: Row) -> str | None:
    """Make the row's request as `who`; what went wrong, or None."""
    expected = row.expect[who]
    refused = not 200 <= expected < 300
    _settle(world.app)
    before = _snapshot(world.app) if refused else None
    r = _call(world, world.callers[who], row)
    problems = []
    if r.status_code != expected:
        problems.append(f"status {r.status_code}, expected {expected}: {r.text[:200]}")
    if who == OTHER and MARKER in r.text:
        problems.append(f"the answer shows the victim's data: {r.text[:200]}")
    if before is not None:
        _settle(world.app)
        changed = _changes(before, _snapshot(world.app))
        if changed:
            problems.append(f"refused, yet changed {', '.join(changed)}")
    return f"{row}: {'; '.join(problems)}" if problems else None


@pytest.mark.parametrize("who", CALLERS)
def test_each_caller_gets_its_rows_status(world, who):
    rows = sorted(MATRIX, key=lambda row: row.last)
    failures = [failure for row in rows if (failure := _run(world, who, row))]
    assert not failures, f"{who}: {len(failures)} of {len(rows)} rows wrong:\n" + "\n".join(
        failures
    )


# --- the census -------------------------------------------------------------------------------


def _declared_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route, those of included routers too (FastAPI 0.165
    keeps them behind one entry per router in `app.routes`)."""
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if route.path not in EXCLUDED_PATHS
    }


def test_every_route_has_a_row(app):
    declared = _declared_routes(app)
    covered = {(row.method, row.path) for row in MATRIX}
    missing = sorted(declared - covered)
    assert not missing, (
        "routes without a row in MATRIX (add one saying what each caller gets, or list the path "
        "in EXCLUDED_PATHS with the reason): " + ", ".join(f"{m} {p}" for m, p in missing)
    )
    assert not covered - declared, f"rows of routes that are gone: {sorted(covered - declared)}"
    paths = {route.path for route in iter_route_contexts(app.routes)}
    assert set(EXCLUDED_PATHS) <= paths, f"stale exclusions: {set(EXCLUDED_PATHS) - paths}"
    for row in MATRIX:
        assert set(row.expect) == set(CALLERS), f"{row} does not name every caller"
