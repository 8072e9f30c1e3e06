"""A visitor who closes the tab mid-answer does not make the answer free: whatever the LLM
produced is recorded and billed, on every streaming door."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.chat.conftest import make_ready_bot
from tests.live import serve


def _wait_for_usage(tenant, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        summary = tenant.get("/api/usage/summary").json()
        if summary["queries"]:
            return summary
        time.sleep(0.2)
    raise AssertionError("the interrupted answer was never recorded")


def _read_first_delta_then_leave(http: httpx.Client, method: str, url: str, **kw) -> str:
    """Open a stream, read until the first piece of the answer arrives, then disconnect."""
    with http.stream(method, url, **kw) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line == "event: delta" or '"content"' in line:
                return line
    raise AssertionError("no delta arrived")


@pytest.mark.parametrize("door", ["public", "openai"])
def test_client_leaving_mid_stream_still_records_and_bills(fireworks, fake_llm, door):
    client, tenant = fireworks()
    bot = make_ready_bot(tenant)
    # two deltas, then the LLM thinks for two seconds before the rest
    fake_llm.interrupt_stream(after_deltas=2, how="stall", stall=2.0)
    headers = {"Authorization": f"Bearer {bot['secret_key']}"}
    with serve(client.app) as url, httpx.Client(base_url=url, timeout=30) as http:
        if door == "public":
            _read_first_delta_then_leave(
                http,
                "POST",
                f"/api/public/{bot['id']}/query",
                headers=headers,
                json={"question": "How long do I have to return an item?", "stream": True},
            )
        else:
            _read_first_delta_then_leave(
                http,
                "POST",
                "/v1/chat/completions",
                headers=headers,
                json={
                    "model": bot["id"],
                    "stream": True,
                    "messages": [{"role": "user", "content": "How long to return an item?"}],
                },
            )
        summary = _wait_for_usage(tenant)

    assert summary["input_tokens"] > 0 and summary["output_tokens"] > 0
    report = tenant.get("/api/usage").json()
    assert report["totals"]["queries"] == 1
    [session] = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    question, answer = tenant.get(f"/api/sessions/{session['id']}/messages").json()
    assert question["role"] == "user"
    assert answer["role"] == "assistant" and answer["status"] == "interrupted"
    assert answer["content"] and answer["output_tokens"] == summary["output_tokens"]
    assert answer["provider"] == "fireworks"


def test_a_stream_read_to_the_end_is_recorded_once(fireworks, fake_llm):
    client, tenant = fireworks()
    bot = make_ready_bot(tenant)
    headers = {"Authorization": f"Bearer {bot['secret_key']}"}
    with serve(client.app) as url, httpx.Client(base_url=url, timeout=30) as http:
        r = http.post(
            f"/api/public/{bot['id']}/query",
            headers=headers,
            json={"question": "How long do I have to return an item?", "stream": True},
        )
        assert "event: done" in r.text
        time.sleep(0.5)
    assert tenant.get("/api/usage").json()["totals"]["queries"] == 1
    [session] = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    statuses = [m["status"] for m in tenant.get(f"/api/sessions/{session['id']}/messages").json()]
    assert statuses == ["ok", "ok"]
