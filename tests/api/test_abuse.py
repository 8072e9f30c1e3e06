"""What an attacker tries at the front door: guessing passwords, forged tokens, huge bodies, and
inputs that once answered 500."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import text

from tests.live import serve


def _login(client: TestClient, email: str, password: str):
    return client.post("/auth/login", json={"email": email, "password": password})


def test_wrong_passwords_for_one_account_are_throttled_with_retry_after(app_with):
    client, tenant = app_with(login_failures_per_account="5/15minutes")
    for _ in range(5):
        assert _login(client, tenant.email, "wrong password").status_code == 401

    r = _login(client, tenant.email, "wrong password")
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    assert r.json()["error"]["code"] == "rate_limited"
    # even the right password waits: otherwise the limit only slows guessing, never stops it
    assert _login(client, tenant.email, tenant.password).status_code == 429
    # the form door (Swagger's Authorize) shares the count
    form = {"username": tenant.email, "password": tenant.password}
    assert client.post("/auth/token", data=form).status_code == 429


def test_a_locked_account_does_not_lock_other_accounts(app_with):
    client, tenant = app_with(login_failures_per_account="3/15minutes")
    other = tenant.add_user("member")
    for _ in range(4):
        _login(client, tenant.email, "wrong password")
    assert _login(client, tenant.email, tenant.password).status_code == 429
    assert _login(client, other.email, other.password).status_code == 200


def test_success_clears_the_accounts_failures(app_with):
    client, tenant = app_with(login_failures_per_account="3/15minutes")
    for _ in range(2):
        _login(client, tenant.email, "wrong password")
    assert _login(client, tenant.email, tenant.password).status_code == 200
    for _ in range(2):
        assert _login(client, tenant.email, "wrong password").status_code == 401
    assert _login(client, tenant.email, tenant.password).status_code == 200


def test_attempts_from_one_address_across_accounts_are_throttled(app_with):
    client, tenant = app_with(login_failures_per_ip="6/15minutes")
    with TestClient(client.app, client=("198.51.100.7", 5000)) as guesser:
        for i in range(6):
            assert _login(guesser, f"nobody-{i}@example.com", "guess").status_code == 401
        r = _login(guesser, "nobody-new@example.com", "guess")
        assert r.status_code == 429 and "address" in r.json()["error"]["message"]
    # another address is unaffected
    assert _login(client, tenant.email, tenant.password).status_code == 200


def test_concurrent_wrong_passwords_cannot_race_past_the_limit(app_with):
    """Each attempt is counted before its password is hashed, in one atomic step: forty at once
    once had forty passwords hashed against a limit of ten."""
    client, tenant = app_with(login_failures_per_account="10/15minutes")
    start = threading.Barrier(40)

    def guess(n: int) -> int:
        start.wait()
        return _login(client, tenant.email, f"wrong password {n}").status_code

    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(guess, range(40)))
    assert statuses.count(401) == 10 and statuses.count(429) == 30, statuses


def test_sign_ups_from_one_address_are_throttled_before_any_hashing(app_with):
    client, _ = app_with(signups_per_ip="3/hour")
    with TestClient(client.app, client=("198.51.100.8", 5000)) as bulk:
        for i in range(3):
            r = bulk.post(
                "/auth/register",
                json={
                    "email": f"bulk-{i}@example.com",
                    "password": "pw-123456",
                    "customer_name": "B",
                },
            )
            assert r.status_code == 201, r.text
        r = bulk.post(
            "/auth/register",
            json={"email": "bulk-9@example.com", "password": "pw-123456", "customer_name": "B"},
        )
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert _login(client, "bulk-9@example.com", "pw-123456").status_code == 401  # not created


def test_token_without_expiry_is_refused(client, tenant, settings):
    claims = jwt.get_unverified_claims(tenant.token)
    claims.pop("exp")
    forged = jwt.encode(claims, settings.secret_key, algorithm="HS256")
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    assert client.get("/auth/me", headers=tenant.headers).status_code == 200


def test_oversized_json_body_is_413_before_it_is_read(app_with):
    client, _ = app_with(max_request_kb=64)
    body = b'{"email": "a@b.c", "password": "' + b"x" * 100_000 + b'"}'
    r = client.post("/auth/login", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_oversized_chunked_body_is_413(make_settings):
    """No Content-Length: the body is counted as it arrives, over real HTTP."""
    from app.main import create_app

    app = create_app(make_settings(max_request_kb=64))

    def chunks():
        yield b'{"email": "a@b.c", "password": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}'

    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            r = http.post(
                "/auth/login", content=chunks(), headers={"content-type": "application/json"}
            )
    finally:
        app.state.engine.dispose()
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_uploads_keep_their_own_larger_ceiling(app_with):
    client, tenant = app_with(max_request_kb=64)
    bot = tenant.create_chatbot()
    text = ("Returns are accepted within thirty days of delivery. " * 3000).encode()
    assert len(text) > 64 * 1024
    r = tenant.post(f"/api/upload/{bot['id']}", files=[("file", ("long.txt", text))])
    assert r.status_code == 202, r.text


def test_resetting_widget_settings_with_null_is_not_a_500(tenant):
    bot = tenant.create_chatbot(settings={"top_k": 3, "widget": {"title": "Help"}})
    r = tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"widget": None}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"] == {"top_k": 3}
    r = tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"top_k": None}})
    assert r.status_code == 200 and r.json()["settings"] == {}


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/usage?end=9999-12-31"),
        ("get", "/api/usage?start=9999-12-01&end=9999-12-31"),
        ("post", "/api/billing/invoices/generate?period=9999-12"),
    ],
)
def test_dates_at_the_end_of_the_calendar_are_a_422(tenant, method, path):
    r = getattr(tenant, method)(path)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]


NUL = "\u0000"


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        (
            "post",
            "/api/chatbots",
            {"name": "Bot", "system_prompt": f"Be kind{NUL}."},
            "system_prompt",
        ),
        (
            "post",
            "/api/chatbots",
            {"name": "Bot", "allowed_origins": [f"https://a{NUL}.example"]},
            "allowed_origins",
        ),
        (
            "patch",
            "/api/chatbots/{bot}",
            {"settings": {"widget": {"title": f"Help{NUL}"}}},
            "settings.widget.title",
        ),
        (
            "post",
            "/api/chatbots/{bot}/sources/text",
            {"title": f"T{NUL}", "text": "Hello"},
            "title",
        ),
        (
            "post",
            "/api/chatbots/{bot}/sources/qa",
            {"question": "Q?", "answer": f"A{NUL}"},
            "answer",
        ),
        ("post", "/api/chatbots/{bot}/sources/url", {"url": f"https://example.com/{NUL}"}, "url"),
        ("post", "/api/chatbots/{bot}/retrieve", {"question": f"Returns{NUL}?"}, "question"),
        ("patch", "/api/billing/info", {"address": f"1 Main St{NUL}"}, "address"),
        (
            "post",
            "/api/users",
            {"email": "new@example.com", "password": f"x{NUL}" * 8, "role": "member"},
            "password",
        ),
    ],
)
def test_text_with_a_nul_character_is_a_422_naming_the_field_on_every_database(
    tenant, method, path, body, field
):
    """PostgreSQL cannot store NUL in text (schemathesis found the 500) and SQLite would keep
    it: every request body refuses it, naming the field, and nothing is stored."""
    bot = tenant.create_chatbot(name="Existing")
    r = getattr(tenant, method)(path.format(bot=bot["id"]), json=body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert "NUL" in str(error["details"]), error
    assert [d["field"] for d in error["details"]] == [field], error
    assert [b["name"] for b in tenant.get("/api/chatbots").json()] == ["Existing"]


def test_text_with_a_nul_character_that_reaches_the_database_is_a_422_not_a_500(
    app, tenant, database_url
):
    """The last net, for text no body model checks: PostgreSQL's driver refuses the value."""

    def echo(value: str) -> dict[str, str]:
        with app.state.sessionmaker() as db:
            return {"stored": db.execute(text("SELECT :value"), {"value": value}).scalar_one()}

    app.add_api_route("/test/echo", echo, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as plain:
        r = plain.get("/test/echo", params={"value": f"nul{NUL}here"})
    if database_url.startswith("postgresql"):
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_value"
    else:
        assert r.status_code == 200, r.text


def test_a_question_with_a_nul_character_is_a_422_on_every_database(client, tenant):
    bot = tenant.create_chatbot()
    r = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": "Returns?\u0000"},
        headers={"X-API-Key": bot["secret_key"]},
    )
    assert r.status_code == 422 and "NUL" in r.json()["error"]["message"]
