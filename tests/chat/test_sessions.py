"""Who may continue a conversation: its history goes into the next question's prompt, so only
whoever started it, through the door it was started at."""

from __future__ import annotations

from tests.chat.conftest import make_ready_bot


def _dashboard_session(tenant, bot: dict) -> str:
    r = tenant.post(
        f"/api/{tenant.customer_id}/{bot['id']}/query",
        json={"question": "What does the Beta 300 toaster cost?"},
    )
    assert r.status_code == 200, r.text
    return r.json()["session_id"]


def test_a_key_cannot_continue_a_signed_in_users_session(client, tenant):
    bot = make_ready_bot(tenant)
    session_id = _dashboard_session(tenant, bot)
    r = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": "What did I ask before?", "session_id": session_id},
        headers={"X-API-Key": bot["secret_key"]},
    )
    assert r.status_code == 404, r.text
    messages = tenant.get(f"/api/sessions/{session_id}/messages").json()
    assert len(messages) == 2  # nothing was added to the owner's conversation


def test_another_user_cannot_continue_a_users_session_but_the_user_can(client, tenant):
    bot = make_ready_bot(tenant)
    session_id = _dashboard_session(tenant, bot)
    member = tenant.add_user("member")
    url = f"/api/{tenant.customer_id}/{bot['id']}/query"
    body = {"question": "And how many slots has it?", "session_id": session_id}
    assert member.post(url, json=body).status_code == 404
    assert tenant.post(url, json=body).status_code == 200


def test_an_api_session_is_continued_through_the_api(client, tenant):
    bot = make_ready_bot(tenant)
    url, key = f"/api/public/{bot['id']}/query", {"X-API-Key": bot["secret_key"]}
    first = client.post(url, json={"question": "What does the toaster cost?"}, headers=key)
    session_id = first.json()["session_id"]
    again = client.post(
        url, json={"question": "How many slots?", "session_id": session_id}, headers=key
    )
    assert again.status_code == 200 and again.json()["session_id"] == session_id
    dashboard = tenant.post(
        f"/api/{tenant.customer_id}/{bot['id']}/query",
        json={"question": "How many slots?", "session_id": session_id},
    )
    assert dashboard.status_code == 404
