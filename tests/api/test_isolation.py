"""A second customer tries every route that takes an id with the first customer's ids.

`ROUTES` must name every route with an id in its path: `test_every_id_route_is_covered` fails
when a new route is added without an isolation case here.
"""

from __future__ import annotations

import pytest

# (method, path template, json body); ids are filled from the victim's objects
ROUTES: list[tuple[str, str, dict | None]] = [
    ("GET", "/api/chatbots/{chatbot_id}", None),
    ("PATCH", "/api/chatbots/{chatbot_id}", {"name": "stolen"}),
    ("DELETE", "/api/chatbots/{chatbot_id}", None),
    ("POST", "/api/chatbots/{chatbot_id}/rotate_key", {"kind": "secret"}),
    ("DELETE", "/api/users/{user_id}", None),
]


def _fill(path: str, ids: dict[str, str]) -> str:
    return path.format(**ids)


@pytest.fixture
def victim_ids(tenant) -> dict[str, str]:
    bot = tenant.create_chatbot(name="Private")
    member = tenant.add_user("member")
    return {"chatbot_id": bot["id"], "user_id": member.user_id, "customer_id": tenant.customer_id}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_other_customer_gets_404_and_changes_nothing(
    tenant, other_tenant, victim_ids, method, path, body
):
    before = tenant.get(f"/api/chatbots/{victim_ids['chatbot_id']}").json()
    r = other_tenant.client.request(
        method, _fill(path, victim_ids), json=body, headers=other_tenant.headers
    )
    assert r.status_code == 404, (method, path, r.text)
    assert r.json()["error"]["code"] == "not_found"
    assert "Private" not in r.text
    after = tenant.get(f"/api/chatbots/{victim_ids['chatbot_id']}").json()
    assert after == before
    assert len(tenant.get("/api/users").json()) == 2


def test_lists_show_only_own_objects(tenant, other_tenant, victim_ids):
    other_tenant.create_chatbot(name="Theirs")
    assert [b["name"] for b in other_tenant.get("/api/chatbots").json()] == ["Theirs"]
    assert [u["email"] for u in other_tenant.get("/api/users").json()] == [other_tenant.email]


def test_every_id_route_is_covered(app):
    covered = {(m, p) for m, p, _ in ROUTES}
    for route in app.routes:
        path = getattr(route, "path", "")
        if "_id}" not in path or path.startswith(("/api/public", "/v1", "/widget")):
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in covered, f"no isolation case for {method} {path}"
