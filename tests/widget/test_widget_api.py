"""The embed snippet, widget.js, the widget's public config and pages, and per-chatbot CORS."""

from __future__ import annotations

import base64
import hashlib
import re
import time

import pytest
from sqlalchemy import update

from app.chatbots.models import ApiKey
from app.core.database import session_scope
from app.widget.service import WIDGET_VERSION
from tests.api.test_documents import TEXT, upload, wait_until_done

SHOP = "https://shop.example.com"
ELSEWHERE = "https://copycat.example.net"
PAGES = ["config", "frame", "demo"]


@pytest.fixture
def bot(tenant) -> dict:
    return tenant.create_chatbot(name="Shop help", allowed_origins=[SHOP])


def ask(
    client,
    bot,
    *,
    origin: str | None = SHOP,
    key: str | None = None,
    headers: dict | None = None,
    **body,
):
    headers = {"X-API-Key": key or bot["widget_key"], **(headers or {})}
    if origin:
        headers["Origin"] = origin
    body.setdefault("question", "How long do I have to return an item?")
    return client.post(f"/api/public/{bot['id']}/query", json=body, headers=headers)


def preflight(client, bot, origin: str):
    return client.options(
        f"/api/public/{bot['id']}/query",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )


def path_of(url: str, settings) -> str:
    assert url.startswith(settings.public_base_url)
    return url.removeprefix(settings.public_base_url)


# --- the snippet -----------------------------------------------------------------------------


def test_snippet_loads_versioned_widget_js_with_chatbot_and_widget_key(tenant, bot, settings):
    r = tenant.get(f"/api/chatbots/{bot['id']}/snippet")

    assert r.status_code == 200, r.text
    snippet = r.json()
    script = snippet["script"]
    assert script.startswith("<script async ") and script.endswith("></script>")
    assert "\n" not in script
    assert f'src="{settings.public_base_url}/widget.js?v={WIDGET_VERSION}"' in script
    assert f'data-chatbot-id="{bot["id"]}"' in script
    assert f'data-widget-key="{bot["widget_key"]}"' in script
    assert snippet["widget_key"] == bot["widget_key"]
    assert snippet["allowed_origins"] == [SHOP]
    assert bot["secret_key"] not in r.text and "sk_" not in r.text


def test_snippet_iframe_variant_may_only_be_framed_by_allowed_origins(
    tenant, bot, client, settings
):
    snippet = tenant.get(f"/api/chatbots/{bot['id']}/snippet").json()
    frame_url = f"{settings.public_base_url}/widget/frame/{bot['id']}?key={bot['widget_key']}"
    assert snippet["iframe_url"] == frame_url
    assert snippet["iframe"].startswith(f'<iframe src="{frame_url}" title="Shop help"')

    page = client.get(path_of(frame_url, settings))

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == f"frame-ancestors {SHOP}"
    assert 'data-mode="inline"' in page.text and bot["widget_key"] in page.text
    assert bot["secret_key"] not in page.text
    tenant.patch(f"/api/chatbots/{bot['id']}", json={"allowed_origins": []})
    again = client.get(path_of(frame_url, settings))
    assert again.headers["content-security-policy"] == "frame-ancestors 'none'"


@pytest.mark.parametrize("role", ["member", "admin"])
def test_every_user_of_the_customer_may_read_the_snippet(tenant, bot, role):
    user = tenant.add_user(role)

    r = user.get(f"/api/chatbots/{bot['id']}/snippet")

    assert r.status_code == 200
    assert bot["secret_key"] not in r.text


def test_snippet_needs_a_signed_in_user(client, bot):
    assert client.get(f"/api/chatbots/{bot['id']}/snippet").status_code == 401


def test_snippet_shows_the_rotated_widget_key(tenant, bot):
    new = tenant.post(f"/api/chatbots/{bot['id']}/rotate_key", json={"kind": "widget"}).json()

    script = tenant.get(f"/api/chatbots/{bot['id']}/snippet").json()["script"]

    assert new["key"] in script and bot["widget_key"] not in script


def test_snippet_of_a_widget_key_kept_only_as_a_hash_asks_for_a_rotation(tenant, app, bot):
    with session_scope(app.state.sessionmaker) as db:
        db.execute(update(ApiKey).values(publishable_key=None))  # keys from before migration 0004

    r = tenant.get(f"/api/chatbots/{bot['id']}/snippet")

    assert r.status_code == 409
    assert "rotate its widget key" in r.json()["error"]["message"]


def test_demo_page_previews_the_widget_on_the_api(tenant, bot, client, settings):
    demo_url = tenant.get(f"/api/chatbots/{bot['id']}/snippet").json()["demo_url"]

    page = client.get(path_of(demo_url, settings))

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'data-widget-key="{bot["widget_key"]}"' in page.text
    assert bot["secret_key"] not in page.text


def test_the_widget_pages_and_the_iframe_snippet_escape_the_chatbots_name(tenant, client, settings):
    """Names are the customer's to write: as text, in the pages' title and heading, in the
    iframe's title attribute."""
    name = """<script>alert("it's")</script>"""
    escaped = "&lt;script&gt;alert(&#34;it&#39;s&#34;)&lt;/script&gt;"
    bot = tenant.create_chatbot(name=name, allowed_origins=[SHOP])
    snippet = tenant.get(f"/api/chatbots/{bot['id']}/snippet").json()

    demo = client.get(path_of(snippet["demo_url"], settings)).text
    frame = client.get(path_of(snippet["iframe_url"], settings)).text

    assert f"<title>Widget preview: {escaped}</title>" in demo
    assert f"<h1>Preview: {escaped}</h1>" in demo
    assert f"<title>{escaped}</title>" in frame
    assert f'title="{escaped}"' in snippet["iframe"]
    for page in (demo, frame, snippet["iframe"]):
        assert name not in page and 'alert("' not in page
    # the pages' own widget is one script element, its attributes quoted
    assert demo.count("<script") == frame.count("<script") == 1


# --- widget.js -------------------------------------------------------------------------------


def test_versioned_widget_js_is_long_cached_javascript_with_fixed_bytes(
    tenant, bot, client, settings
):
    url = tenant.get(f"/api/chatbots/{bot['id']}/snippet").json()["script_url"]

    first, second = client.get(path_of(url, settings)), client.get(path_of(url, settings))

    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/javascript")
    cache = first.headers["cache-control"]
    assert "max-age=31536000" in cache and "immutable" in cache
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    # one hand-written file: 19 kB with ratings, source excerpts and new conversations (6.5 kB
    # gzipped); the budget keeps it from growing into a framework
    assert len(first.content) < 24_000
    unchanged = client.get(path_of(url, settings), headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""


def test_widget_js_integrity_matches_its_bytes(tenant, bot, client):
    snippet = tenant.get(f"/api/chatbots/{bot['id']}/snippet").json()

    body = client.get(f"/widget.js?v={WIDGET_VERSION}").content

    digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
    assert snippet["integrity"] == f"sha384-{digest}"


def test_unversioned_widget_js_is_cached_briefly(client):
    r = client.get("/widget.js")

    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=300"


# --- CORS and origins of the public query ---------------------------------------------------


def test_preflight_from_an_allowed_origin_is_echoed(client, bot):
    r = preflight(client, bot, SHOP)

    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == SHOP
    assert "Origin" in r.headers["vary"]
    assert {"content-type", "x-api-key"} <= {
        h.strip() for h in r.headers["access-control-allow-headers"].split(",")
    }
    assert "access-control-allow-credentials" not in r.headers


@pytest.mark.parametrize("origin", [ELSEWHERE, "http://localhost:3000"], ids=["other", "dashboard"])
def test_preflight_from_any_other_origin_gets_no_cors(client, bot, settings, origin):
    assert "http://localhost:3000" in settings.cors_origins  # the dashboard's CORS stays out

    r = preflight(client, bot, origin)

    assert r.status_code == 403
    assert "access-control-allow-origin" not in r.headers
    assert r.json()["error"]["code"] == "forbidden"


def test_answer_to_an_allowed_origin_echoes_it_never_star(client, bot):
    r = ask(client, bot)

    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == SHOP
    assert "Retry-After" in r.headers["access-control-expose-headers"]
    assert "Origin" in r.headers["vary"]


def test_widget_key_refused_from_unlisted_origin(client, bot):
    r = ask(client, bot, origin=ELSEWHERE)

    assert r.status_code == 403
    error = r.json()["error"]
    assert error["code"] == "forbidden"
    assert ELSEWHERE in error["message"] and "allowed_origins" in error["message"]
    assert "access-control-allow-origin" not in r.headers


def test_widget_key_refused_without_origin(client, bot):
    r = ask(client, bot, origin=None)

    assert r.status_code == 403
    assert "without an Origin" in r.json()["error"]["message"]


def test_widget_key_cannot_call_chat_completions(client, bot):
    r = client.post(
        "/v1/chat/completions",
        json={"model": bot["id"], "messages": [{"role": "user", "content": "returns?"}]},
        headers={"Authorization": f"Bearer {bot['widget_key']}", "Origin": SHOP},
    )

    assert r.status_code == 403
    assert "Widget keys can only ask questions" in r.json()["error"]["message"]


def test_patch_of_allowed_origins_applies_to_the_next_request(tenant, client, bot):
    assert preflight(client, bot, ELSEWHERE).status_code == 403

    tenant.patch(f"/api/chatbots/{bot['id']}", json={"allowed_origins": [SHOP, ELSEWHERE]})
    assert preflight(client, bot, ELSEWHERE).headers["access-control-allow-origin"] == ELSEWHERE
    assert ask(client, bot, origin=ELSEWHERE).status_code == 200

    tenant.patch(f"/api/chatbots/{bot['id']}", json={"allowed_origins": [SHOP]})
    assert "access-control-allow-origin" not in preflight(client, bot, ELSEWHERE).headers
    assert ask(client, bot, origin=ELSEWHERE).status_code == 403


def _visitor_token(page_html: str) -> str:
    match = re.search(r'data-visitor-token="([^"]+)"', page_html)
    assert match, "the page carries no visitor token"
    return match.group(1)


def test_widget_key_alone_does_not_work_from_the_apis_own_origin(client, bot, settings):
    """The API's origin is in no chatbot's list: a widget key from it once worked for every
    chatbot, whatever its allowed origins."""
    r = ask(client, bot, origin=settings.public_base_url)

    assert r.status_code == 403, r.text


@pytest.mark.parametrize("page", ["demo", "frame"])
def test_the_apis_own_pages_answer_with_the_visitor_token_they_were_served(
    client, tenant, bot, settings, page
):
    html = client.get(f"/widget/{page}/{bot['id']}", params={"key": bot["widget_key"]}).text
    token = _visitor_token(html)
    headers = {"X-Visitor-Token": token}

    r = ask(client, bot, origin=settings.public_base_url, headers=headers)
    assert r.status_code == 200, r.text
    config = client.get(
        f"/widget/config/{bot['id']}",
        params={"key": bot["widget_key"]},
        headers={"Origin": settings.public_base_url, **headers},
    ).json()
    assert config["origin_allowed"] is True
    # the token is for the API's own pages: from another site it opens nothing
    assert ask(client, bot, origin=ELSEWHERE, headers=headers).status_code == 403
    # nor for another chatbot of the same customer
    other = tenant.create_chatbot(name="Other bot", allowed_origins=[SHOP])
    r = ask(client, other, origin=settings.public_base_url, headers=headers)
    assert r.status_code == 403


def test_an_expired_or_forged_visitor_token_is_refused(client, bot, settings):
    from jose import jwt

    now = int(time.time())
    expired = jwt.encode(
        {"sub": bot["id"], "typ": "visitor", "iat": now - 7200, "exp": now - 3600},
        settings.secret_key,
        algorithm="HS256",
    )
    forged = jwt.encode(
        {"sub": bot["id"], "typ": "visitor", "iat": now, "exp": now + 3600},
        "not-the-secret",
        algorithm="HS256",
    )
    for token in (expired, forged, "garbage"):
        r = ask(client, bot, origin=settings.public_base_url, headers={"X-Visitor-Token": token})
        assert r.status_code == 403, token


def test_widget_visitor_messages_are_stored_and_billed(tenant, client, bot):
    doc = upload(tenant, bot["id"], "policy.txt", TEXT.encode()).json()[0]
    assert wait_until_done(tenant, doc["id"])["status"] == "ready"

    r = ask(client, bot, stream=True)

    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert "30 days" in r.text and "event: done" in r.text
    [session] = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    assert session["channel"] == "widget" and session["user_id"] is None
    messages = tenant.get(f"/api/sessions/{session['id']}/messages").json()
    assert [m["role"] for m in messages] == ["user", "assistant"]
    # recorded as every door's questions are; the extractive answerer bills no tokens
    assert messages[1]["provider"] == "extractive"
    summary = tenant.get("/api/usage/summary").json()
    assert summary["queries"] == 1 and summary["tokens_used"] == 0


def test_widget_visitors_have_a_tighter_rate_limit(app_with):
    client, tenant = app_with(rate_limit_widget_per_ip="3/minute")
    bot = tenant.create_chatbot(allowed_origins=[SHOP])

    statuses = [ask(client, bot).status_code for _ in range(3)]
    refused = ask(client, bot)

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["access-control-allow-origin"] == SHOP  # the widget can read why
    server = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": "returns?"},
        headers={"X-API-Key": bot["secret_key"]},
    )
    assert server.status_code == 200  # the secret key's own, looser limit


# --- widget settings and the public config ---------------------------------------------------


def test_widget_settings_round_trip_into_the_public_config(tenant, client, bot):
    widget = {
        "title": "Ask Shop",
        "greeting": "Hello! Ask about returns.",
        "starter_questions": ["How do returns work?", "Is shipping free?"],
        "accent_color": "#0f766e",
        "position": "bottom-left",
    }
    r = tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"widget": widget}})
    assert r.status_code == 200, r.text
    assert tenant.get(f"/api/chatbots/{bot['id']}").json()["settings"]["widget"] == widget

    config = client.get(
        f"/widget/config/{bot['id']}", params={"key": bot["widget_key"]}, headers={"Origin": SHOP}
    )

    assert config.status_code == 200
    assert config.headers["access-control-allow-origin"] == "*"
    body = config.json()
    assert {k: body[k] for k in widget} == widget
    assert body["origin"] == SHOP and body["origin_allowed"] is True


def test_public_config_has_defaults_and_says_when_the_origin_is_not_allowed(client, bot):
    r = client.get(
        f"/widget/config/{bot['id']}",
        params={"key": bot["widget_key"]},
        headers={"Origin": ELSEWHERE},
    )

    assert r.status_code == 200
    body = r.json()
    assert body["title"] == "Shop help" and body["greeting"]
    assert body["position"] == "bottom-right" and body["accent_color"].startswith("#")
    assert body["origin"] == ELSEWHERE and body["origin_allowed"] is False


@pytest.mark.parametrize("page", PAGES)
def test_widget_pages_refuse_missing_secret_and_revoked_keys(tenant, client, bot, page):
    url = f"/widget/{page}/{bot['id']}"

    assert client.get(url).status_code == 401
    secret = client.get(url, params={"key": bot["secret_key"]})
    assert secret.status_code == 403
    assert "never appear in a web page" in secret.json()["error"]["message"]
    tenant.post(f"/api/chatbots/{bot['id']}/rotate_key", json={"kind": "widget"})
    assert client.get(url, params={"key": bot["widget_key"]}).status_code == 401


@pytest.mark.parametrize("page", PAGES)
def test_widget_key_of_another_customers_chatbot_is_not_found(tenant, other_tenant, client, page):
    victim = tenant.create_chatbot(name="Private", allowed_origins=[SHOP])
    own = other_tenant.create_chatbot(name="Theirs", allowed_origins=[SHOP])

    r = client.get(f"/widget/{page}/{victim['id']}", params={"key": own["widget_key"]})

    assert r.status_code == 404
    assert "Private" not in r.text
