"""A visitor who closes the tab mid-answer does not make the answer free, and does not keep the
provider working for nobody: on every streaming door the disconnect is noticed as it happens,
the provider's request is cancelled, what it produced is recorded and billed, and the
reservation is given back; a server shutting down does the same for the answers it still
streams."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from app.billing.models import UsageReservation
from tests.chat.conftest import make_ready_bot
from tests.live import serve
from tests.servers import free_port, wait_for

# the provider sends two deltas, then thinks for longer than any test waits
STALL = 120.0
DEADLINE = 30.0


def _wait_for_usage(tenant, timeout: float = DEADLINE) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        summary = tenant.get("/api/usage/summary").json()
        if summary["queries"]:
            return summary
        time.sleep(0.1)
    raise AssertionError("the interrupted answer was not recorded while the provider stalled")


def _reservations(app) -> int:
    with app.state.sessionmaker() as db:
        return db.scalar(select(func.count()).select_from(UsageReservation))


def _door(bot: dict, tenant, door: str) -> tuple[str, dict, dict]:
    """The method's URL, headers and body of a streamed question through one door."""
    question = "How long do I have to return an item?"
    key = {"Authorization": f"Bearer {bot['secret_key']}"}
    if door == "public":
        return f"/api/public/{bot['id']}/query", key, {"question": question, "stream": True}
    if door == "dashboard":
        url = f"/api/{tenant.customer_id}/{bot['id']}/query"
        return url, tenant.headers, {"question": question, "stream": True}
    body = {
        "model": bot["id"],
        "stream": True,
        "messages": [{"role": "user", "content": question}],
    }
    return "/v1/chat/completions", key, body


def _read_until_the_stall(response: httpx.Response) -> Iterator[str]:
    """Reads the two deltas the provider sends before it stalls: the server then has nothing to
    write, so only listening can tell it the client left. Returns the rest of the lines, which
    the caller holds while it means to stay connected: an abandoned line iterator, once
    collected, closes the response and with it the connection (httpcore closes its stream on
    GeneratorExit), which made the server see the client leave while it had not."""
    assert response.status_code == 200
    deltas = 0
    lines = response.iter_lines()
    for line in lines:
        if line == "event: delta" or '"content"' in line:
            deltas += 1
            if deltas == 2:
                return lines
    raise AssertionError("the deltas did not arrive")


def _assert_recorded_as_interrupted(tenant, bot: dict, summary: dict) -> None:
    assert summary["input_tokens"] > 0 and summary["output_tokens"] > 0
    assert tenant.get("/api/usage").json()["totals"]["queries"] == 1
    [session] = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    question, answer = tenant.get(f"/api/sessions/{session['id']}/messages").json()
    assert question["role"] == "user"
    assert answer["role"] == "assistant" and answer["status"] == "interrupted"
    # the two deltas the provider sent, and only them, billed
    assert len(answer["content"].split()) == 2 and answer["content"].startswith("Received ")
    assert answer["output_tokens"] == summary["output_tokens"]
    assert answer["provider"] == "fireworks"


@pytest.mark.parametrize("door", ["public", "openai", "dashboard"])
def test_client_leaving_mid_stream_cancels_the_provider_and_bills_what_it_produced(
    fireworks, fake_llm, door
):
    client, tenant = fireworks(llm_timeout_seconds=STALL * 2)
    bot = make_ready_bot(tenant)
    fake_llm.interrupt_stream(after_deltas=2, how="stall", stall=STALL)
    url, headers, body = _door(bot, tenant, door)
    with serve(client.app) as base, httpx.Client(base_url=base, timeout=STALL) as http:
        with http.stream("POST", url, headers=headers, json=body) as response:
            _read_until_the_stall(response)
        summary = _wait_for_usage(tenant)
        # the provider saw its request cancelled: its connection closed mid-answer
        wait_for(lambda: fake_llm.abandoned, DEADLINE, "the provider's request to be cancelled")
        assert len(client.app.state.rag.streams) == 0

    _assert_recorded_as_interrupted(tenant, bot, summary)
    assert _reservations(client.app) == 0


def test_shutdown_records_the_answers_it_was_streaming(fireworks, fake_llm):
    """A graceful shutdown whose grace period ends mid-answer stops the answer, records and bills
    it, and gives its reservation back, before the process ends."""
    client, tenant = fireworks(llm_timeout_seconds=STALL * 2)
    bot = make_ready_bot(tenant)
    fake_llm.interrupt_stream(after_deltas=2, how="stall", stall=STALL)
    url, headers, body = _door(bot, tenant, "public")
    port = free_port()
    config = uvicorn.Config(
        client.app, port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 30, "uvicorn")
    with (
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=STALL) as http,
        http.stream("POST", url, headers=headers, json=body) as response,
    ):
        still_reading = _read_until_the_stall(response)
        assert _reservations(client.app) == 1
        server.should_exit = True  # as on SIGTERM; the client is still reading
        thread.join(DEADLINE)
        assert not thread.is_alive(), "the server did not stop"
        del still_reading

    summary = tenant.get("/api/usage/summary").json()
    _assert_recorded_as_interrupted(tenant, bot, summary)
    assert _reservations(client.app) == 0
    assert fake_llm.abandoned


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
        # recorded before its last event was sent
        assert tenant.get("/api/usage").json()["totals"]["queries"] == 1
        wait_for(lambda: len(client.app.state.rag.streams) == 0, DEADLINE, "the answer's thread")
    [session] = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    statuses = [m["status"] for m in tenant.get(f"/api/sessions/{session['id']}/messages").json()]
    assert statuses == ["ok", "ok"]
    assert _reservations(client.app) == 0


@pytest.mark.parametrize("door", ["public", "openai"])
def test_a_keys_streamed_answer_holds_its_customers_slot_until_it_is_over(
    fireworks, fake_llm, door
):
    """A key's streamed answers count against its customer's concurrency bound while the LLM
    produces them, not only while they are prepared: the bound once let a key open any number of
    streams, each holding a provider request and a thread."""
    client, tenant = fireworks(llm_timeout_seconds=STALL * 2, customer_concurrency=1)
    bot = make_ready_bot(tenant)
    slots = client.app.state.slots
    fake_llm.interrupt_stream(after_deltas=2, how="stall", stall=STALL)
    url, headers, body = _door(bot, tenant, door)
    with serve(client.app) as base, httpx.Client(base_url=base, timeout=STALL) as http:
        with http.stream("POST", url, headers=headers, json=body) as response:
            still_reading = _read_until_the_stall(response)
            refused = http.post(url, headers=headers, json={**body, "stream": False})
            assert refused.status_code == 429, refused.text
            assert refused.headers["Retry-After"] == "1"
            del still_reading  # the client leaves with the block
        _wait_for_usage(tenant)
        wait_for(
            lambda: slots.in_flight(uuid.UUID(tenant.customer_id)) == 0,
            DEADLINE,
            "the slot to be given back",
        )
        answered = http.post(url, headers=headers, json={**body, "stream": False})
        assert answered.status_code == 200, answered.text
    assert slots.in_flight(uuid.UUID(tenant.customer_id)) == 0
