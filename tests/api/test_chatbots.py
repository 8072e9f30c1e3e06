from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.chatbots.models import ApiKey
from app.core.database import session_scope


def test_create_returns_both_keys_once(tenant, app):
    bot = tenant.create_chatbot(name="Docs", system_prompt="Be brief.")
    assert bot["secret_key"].startswith("sk_")
    assert bot["widget_key"].startswith("pk_")
    again = tenant.get(f"/api/chatbots/{bot['id']}").json()
    assert "secret_key" not in again and "widget_key" not in again
    assert {k["kind"] for k in again["api_keys"]} == {"secret", "widget"}
    assert bot["secret_key"] not in str(again)
    with app.state.sessionmaker() as db:
        stored = db.scalars(select(ApiKey)).all()
    for key in stored:
        assert key.key_hash not in (bot["secret_key"], bot["widget_key"])
        assert len(key.prefix) == 12
        assert bot["secret_key"].startswith(key.prefix) or bot["widget_key"].startswith(key.prefix)


def test_list_get_patch_delete(tenant):
    bot = tenant.create_chatbot(name="One")
    tenant.create_chatbot(name="Two")
    assert [b["name"] for b in tenant.get("/api/chatbots").json()] == ["One", "Two"]
    r = tenant.patch(
        f"/api/chatbots/{bot['id']}",
        json={
            "description": "helps",
            "settings": {"top_k": 6, "widget": {"title": "Help"}},
            "allowed_origins": ["https://Shop.example.com/", "http://localhost:3000"],
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["description"] == "helps"
    assert body["name"] == "One"
    assert body["settings"] == {"top_k": 6, "widget": {"title": "Help"}}
    assert body["allowed_origins"] == ["http://localhost:3000", "https://shop.example.com"]
    r = tenant.patch(
        f"/api/chatbots/{bot['id']}", json={"settings": {"widget": {"greeting": "Hi"}}}
    )
    assert r.json()["settings"] == {"top_k": 6, "widget": {"title": "Help", "greeting": "Hi"}}
    assert tenant.delete(f"/api/chatbots/{bot['id']}").status_code == 204
    assert tenant.get(f"/api/chatbots/{bot['id']}").status_code == 404


def test_invalid_settings_and_origins_name_the_field(tenant):
    bot = tenant.create_chatbot()
    r = tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"top_k": 0}})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "settings.top_k"
    r = tenant.patch(f"/api/chatbots/{bot['id']}", json={"allowed_origins": ["https://x.com/path"]})
    assert r.status_code == 422
    assert "origin" in r.json()["error"]["message"]
    r = tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"unknown": 1}})
    assert r.status_code == 422


def test_rotate_key_revokes_old_key_at_once(tenant, app):
    from app.chatbots.deps import find_key as authenticate_key

    bot = tenant.create_chatbot()
    r = tenant.post(f"/api/chatbots/{bot['id']}/rotate_key", json={"kind": "secret"})
    assert r.status_code == 200
    new = r.json()["key"]
    assert new.startswith("sk_") and new != bot["secret_key"]
    with app.state.sessionmaker() as db:
        assert authenticate_key(db, bot["secret_key"]) is None
        assert authenticate_key(db, new).chatbot_id.hex == bot["id"].replace("-", "")
        assert authenticate_key(db, bot["widget_key"]).kind == "widget"
    listed = tenant.get(f"/api/chatbots/{bot['id']}").json()["api_keys"]
    assert len([k for k in listed if k["kind"] == "secret"]) == 1


def test_rotate_without_body_rotates_secret_key(tenant):
    bot = tenant.create_chatbot()
    r = tenant.post(f"/api/chatbots/{bot['id']}/rotate_key")
    assert r.status_code == 200
    assert r.json()["kind"] == "secret"


def test_timestamps_are_utc_on_every_database(tenant):
    created = tenant.create_chatbot()
    read_back = tenant.get(f"/api/chatbots/{created['id']}").json()
    for stamp in (created["created_at"], read_back["created_at"], read_back["updated_at"]):
        assert stamp.endswith(("Z", "+00:00")), stamp
    assert created["created_at"] == read_back["created_at"]


def test_a_default_port_is_dropped_from_allowed_websites_as_browsers_drop_it(tenant):
    bot = tenant.create_chatbot(
        allowed_origins=[
            "https://Shop.Example.com:443",
            "http://[::1]:80",
            "http://x.example:8080",
            "https://bücher.de",  # a browser sends an international name in its xn-- form
        ]
    )
    assert bot["allowed_origins"] == [
        "http://[::1]",
        "http://x.example:8080",
        "https://shop.example.com",
        "https://xn--bcher-kva.de",
    ]
    r = tenant.patch(
        f"/api/chatbots/{bot['id']}", json={"allowed_origins": ["https://x.com:99999"]}
    )
    assert r.status_code == 422


def test_origin_check_answers_as_the_widget_check_does(tenant, client):
    bot = tenant.create_chatbot(
        allowed_origins=["https://shop.example.com", "http://localhost:3000"]
    )
    url = f"/api/chatbots/{bot['id']}/origin-check"
    cases = {
        "https://Shop.Example.com/teapots?colour=red#top": ("https://shop.example.com", True),
        "shop.example.com/returns": ("https://shop.example.com", True),
        "https://shop.example.com:443": ("https://shop.example.com", True),
        "http://shop.example.com": ("http://shop.example.com", False),
        "http://localhost:3000/": ("http://localhost:3000", True),
        "http://localhost:3001/": ("http://localhost:3001", False),
        "https://evil.example/https://shop.example.com": ("https://evil.example", False),
    }
    for address, (origin, allowed) in cases.items():
        r = tenant.get(url, params={"url": address})
        assert r.status_code == 200, (address, r.text)
        assert r.json() == {"origin": origin, "allowed": allowed}, address
        # the widget's own check, through the browser's Origin header, agrees
        config = client.get(
            f"/widget/config/{bot['id']}",
            params={"key": bot["widget_key"]},
            headers={"Origin": origin},
        ).json()
        assert config["origin_allowed"] is allowed, origin
    for address in ("ftp://shop.example.com", "https://", "https://x:port", "   "):
        r = tenant.get(url, params={"url": address})
        assert r.status_code == 422, address
        assert "not a website address" in r.json()["error"]["message"]
    assert tenant.get(url).status_code == 422


def test_every_role_may_check_a_website(tenant):
    bot = tenant.create_chatbot(allowed_origins=["https://shop.example.com"])
    member = tenant.add_user("member")
    r = member.get(f"/api/chatbots/{bot['id']}/origin-check", params={"url": "shop.example.com"})
    assert r.json() == {"origin": "https://shop.example.com", "allowed": True}
    assert tenant.client.get(f"/api/chatbots/{bot['id']}/origin-check?url=x").status_code == 401


def test_a_keys_last_use_is_recorded_at_most_once_a_minute(tenant, app, client):
    bot = tenant.create_chatbot(name="Busy")
    headers = {"X-API-Key": bot["secret_key"]}

    def last_used():
        with app.state.sessionmaker() as db:
            key = db.scalars(select(ApiKey).where(ApiKey.kind == "secret")).one()
            return key.last_used_at

    def ask():
        r = client.post(f"/api/public/{bot['id']}/query", json={"question": "Hi?"}, headers=headers)
        assert r.status_code == 200, r.text

    assert last_used() is None
    ask()
    first = last_used()
    assert first is not None
    ask()
    assert last_used() == first  # within the minute: not written again
    with session_scope(app.state.sessionmaker) as db:
        db.execute(update(ApiKey).values(last_used_at=first - timedelta(minutes=2)))
    ask()
    assert last_used() > first
    listed = tenant.get(f"/api/chatbots/{bot['id']}").json()["api_keys"]
    assert next(k for k in listed if k["kind"] == "secret")["last_used_at"] is not None


@pytest.mark.parametrize(
    "value",
    [
        "https://a.com *",  # once copied into frame-ancestors: any site could frame the widget
        "https://a.com;script-src *",
        "https://a.com\tb.com",
        "https://a..com",
        "https://-shop.example.com",
        "https://shop_example.com",
    ],
)
def test_allowed_origins_that_are_not_origins_are_refused_before_they_are_stored(
    tenant, value: str
):
    r = tenant.post("/api/chatbots", json={"name": "Bot", "allowed_origins": [value]})
    assert r.status_code == 422, r.text
    assert "not an origin" in r.text
    assert tenant.get("/api/chatbots").json() == []
