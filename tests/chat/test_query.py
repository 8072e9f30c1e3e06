from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from app.billing.models import UsageRecord, UsageTotal
from app.billing.service import current_period
from app.chat.models import ChatMessage
from app.chat.prompt import NOT_FOUND_ANSWER
from app.core.database import session_scope
from tests.chat.conftest import SYSTEM_PROMPT, make_ready_bot


def ask(client, bot, question, *, key=None, **body):
    headers = {"X-API-Key": key or bot["secret_key"]}
    return client.post(
        f"/api/public/{bot['id']}/query", json={"question": question, **body}, headers=headers
    )


def events(response) -> list[tuple[str, dict]]:
    parsed = []
    for block in response.text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        parsed.append((lines["event"], json.loads(lines["data"])))
    return parsed


def test_public_query_answers_from_the_documents_with_sources(client, bot):
    r = ask(client, bot, "How long do I have to return an item?")
    assert r.status_code == 200, r.text
    body = r.json()
    assert "30 days" in body["answer"]
    assert body["provider"] == "extractive" and body["model"] == "extractive"
    assert body["unanswered"] is False
    top = body["sources"][0]
    assert top["document_id"] == bot["document_id"]
    assert top["filename"] == "catalogue.md"
    assert top["heading"] == "Returns"
    assert "30 days" in top["text"]
    assert 0 < top["score"] <= 1 and isinstance(top["chunk_index"], int)
    # no LLM ran, so nothing is billed (the fireworks tests check the tokens of a real call)
    assert body["usage"] == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    uuid.UUID(body["session_id"]), uuid.UUID(body["message_id"])


def test_bearer_key_is_accepted_and_bad_keys_are_401(client, bot):
    r = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": "returns?"},
        headers={"Authorization": f"Bearer {bot['secret_key']}"},
    )
    assert r.status_code == 200
    assert ask(client, bot, "returns?", key="sk_wrong").status_code == 401
    r = client.post(f"/api/public/{bot['id']}/query", json={"question": "returns?"})
    assert r.status_code == 401
    assert "X-API-Key" in r.json()["error"]["message"]


def test_rotated_secret_key_stops_working_at_once(client, tenant, bot):
    new = tenant.post(f"/api/chatbots/{bot['id']}/rotate_key").json()["key"]
    assert ask(client, bot, "returns?").status_code == 401
    assert ask(client, bot, "returns?", key=new).status_code == 200


def test_empty_or_oversized_question_is_422(client, bot):
    assert ask(client, bot, "").status_code == 422
    assert ask(client, bot, "x" * 4001).status_code == 422


def test_dashboard_query_and_history_routes(tenant, bot):
    url = f"/api/{tenant.customer_id}/{bot['id']}/query"
    first = tenant.post(url, json={"question": "What does the Beta 300 toaster weigh?"})
    assert first.status_code == 200, first.text
    sid = first.json()["session_id"]
    second = tenant.post(url, json={"question": "How many slots?", "session_id": sid})
    assert second.json()["session_id"] == sid
    sessions = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    assert [s["id"] for s in sessions] == [sid]
    assert sessions[0]["channel"] == "dashboard" and sessions[0]["user_id"] == tenant.user_id
    messages = tenant.get(f"/api/sessions/{sid}/messages").json()
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2]["content"] == "How many slots?"
    assert messages[3]["id"] == second.json()["message_id"]


def test_unknown_session_is_404(client, bot):
    assert ask(client, bot, "returns?", session_id=str(uuid.uuid4())).status_code == 404


def test_nothing_relevant_says_so_and_records_unanswered(client, app, bot, fake_llm):
    r = ask(client, bot, "Who won the football world cup in 1998?")
    body = r.json()
    assert body["answer"] == NOT_FOUND_ANSWER
    assert body["unanswered"] is True and body["sources"] == []
    assert body["provider"] == "none" and body["usage"]["total_tokens"] == 0
    with app.state.sessionmaker() as db:
        question = db.scalars(select(ChatMessage).where(ChatMessage.role == "user")).one()
        assert question.unanswered is True
        assert db.scalar(select(func.count()).select_from(UsageRecord)) == 0


def test_streaming_sends_sources_then_deltas_then_done(client, bot, app):
    r = ask(client, bot, "How long do I have to return an item?", stream=True)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    evs = events(r)
    assert evs[0][0] == "sources" and evs[0][1]["sources"][0]["heading"] == "Returns"
    assert evs[-1][0] == "done"
    deltas = [data["text"] for name, data in evs if name == "delta"]
    assert len(deltas) >= 2
    done = evs[-1][1]
    assert done["provider"] == "extractive" and done["usage"]["total_tokens"] == 0
    assert done["session_id"] == evs[0][1]["session_id"]
    with app.state.sessionmaker() as db:
        stored = db.get(ChatMessage, uuid.UUID(done["message_id"]))
        assert stored.content == "".join(deltas)


def test_accept_header_selects_streaming(client, bot):
    r = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": "returns?"},
        headers={"X-API-Key": bot["secret_key"], "Accept": "text/event-stream"},
    )
    assert [name for name, _ in events(r)][0] == "sources"


def test_chatbot_settings_govern_retrieval(client, tenant, bot):
    tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"top_k": 1}})
    assert len(ask(client, bot, "What does the Alpha 200 weigh?").json()["sources"]) == 1
    tenant.patch(f"/api/chatbots/{bot['id']}", json={"settings": {"score_threshold": 0.99}})
    assert ask(client, bot, "What does the Alpha 200 weigh?").json()["unanswered"] is True


def test_usage_summary_matches_the_records(client, tenant, bot, app):
    for q in ("returns?", "Alpha 200 motor power?", "Beta 300 browning levels?"):
        assert ask(client, bot, q).status_code == 200
    summary = tenant.get("/api/usage/summary").json()
    with app.state.sessionmaker() as db:
        records = db.scalars(select(UsageRecord)).all()
    assert summary["input_tokens"] == sum(r.input_tokens for r in records)
    assert summary["output_tokens"] == sum(r.output_tokens for r in records)
    assert summary["tokens_used"] == summary["input_tokens"] + summary["output_tokens"]
    assert summary["tokens_remaining"] == summary["allowance"] - summary["tokens_used"]
    assert summary["queries"] == 3


def test_used_up_allowance_answers_402_without_calling_the_llm(fireworks, fake_llm):
    client, tenant = fireworks()
    bot = tenant.create_chatbot(name="b")
    app = client.app
    with session_scope(app.state.sessionmaker) as db:
        db.add(
            UsageTotal(
                customer_id=uuid.UUID(tenant.customer_id),
                period=current_period(),
                input_tokens=60_000,
                output_tokens=40_000,
                queries=1,
            )
        )
    r = ask(client, bot, "returns?")
    assert r.status_code == 402
    assert "allowance" in r.json()["error"]["message"]
    assert fake_llm.requests == []


def test_free_plan_member_demo_limit(make_settings, client, tenant, bot, app):
    app.state.settings.demo_message_limit = 2
    member = tenant.add_user("member")
    url = f"/api/{tenant.customer_id}/{bot['id']}/query"
    assert member.post(url, json={"question": "returns?"}).status_code == 200
    assert member.post(url, json={"question": "returns?"}).status_code == 200
    r = member.post(url, json={"question": "returns?"})
    assert r.status_code == 429
    assert "demo" in r.json()["error"]["message"]
    assert tenant.post(url, json={"question": "returns?"}).status_code == 200, "owners unlimited"


def test_public_rate_limit_per_key_answers_429_with_retry_after(client, bot, app):
    from app.core.ratelimit import RateLimiter

    app.state.settings.rate_limit_public = "2/minute"
    app.state.limiter = RateLimiter("memory://")
    assert ask(client, bot, "returns?").status_code == 200
    assert ask(client, bot, "returns?").status_code == 200
    r = ask(client, bot, "returns?")
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["error"]["code"] == "rate_limited"


def test_rate_limits_are_shared_through_redis(client, bot, app, make_settings):
    """Two API processes (two limiters) with one Redis storage see one budget."""
    import os

    import redis

    from app.core.ratelimit import RateLimiter

    uri = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis.Redis.from_url(uri).flushdb()
    app.state.settings.rate_limit_public = "3/minute"
    first, second = RateLimiter(uri), RateLimiter(uri)
    app.state.limiter = first
    assert ask(client, bot, "returns?").status_code == 200
    assert ask(client, bot, "returns?").status_code == 200
    app.state.limiter = second
    assert ask(client, bot, "returns?").status_code == 200
    assert ask(client, bot, "returns?").status_code == 429


@pytest.mark.parametrize("stream", [False, True])
def test_fireworks_prompt_has_system_prompt_chunks_and_history(fireworks, fake_llm, stream):
    client, tenant = fireworks()
    bot = make_ready_bot(tenant)
    fake_llm.reply_with("The Alpha 200 is a blender.", input_tokens=321, output_tokens=7)
    first = ask(client, bot, "Tell me about the Alpha 200 blender").json()
    fake_llm.reply_with("It weighs 3.2 kg [1].", input_tokens=400, output_tokens=9)
    r = ask(client, bot, "How much does it weigh?", session_id=first["session_id"], stream=stream)
    if stream:
        answer = "".join(d["text"] for n, d in events(r) if n == "delta")
    else:
        answer = r.json()["answer"]
    assert answer == "It weighs 3.2 kg [1]."
    sent = fake_llm.requests[-1].body
    system = sent["messages"][0]
    assert system["role"] == "system" and SYSTEM_PROMPT in system["content"]
    assert "weighs 3.2 kg" in system["content"], "the retrieved chunk is in the prompt"
    assert "catalogue.md" in system["content"], "with its source label"
    assert sent["messages"][1:] == [
        {"role": "user", "content": "Tell me about the Alpha 200 blender"},
        {"role": "assistant", "content": "The Alpha 200 is a blender."},
        {"role": "user", "content": "How much does it weigh?"},
    ]
    assert sent["model"] == client.app.state.settings.llm_model
    with client.app.state.sessionmaker() as db:
        records = db.scalars(select(UsageRecord).order_by(UsageRecord.created_at)).all()
        assert [(u.input_tokens, u.output_tokens) for u in records] == [(321, 7), (400, 9)]
        assert {u.provider for u in records} == {"fireworks"}
    summary = tenant.get("/api/usage/summary").json()
    assert (summary["input_tokens"], summary["output_tokens"]) == (721, 16)


def test_follow_up_is_condensed_with_history_before_retrieval(client, tenant, bot):
    url = f"/api/{tenant.customer_id}/{bot['id']}/query"
    first = tenant.post(url, json={"question": "Tell me about the Alpha 200 blender"}).json()
    follow = tenant.post(
        url, json={"question": "How much does it weigh?", "session_id": first["session_id"]}
    ).json()
    assert "Alpha 200 blender weighs 3.2 kg" in follow["sources"][0]["text"]
    assert "3.2 kg" in follow["answer"]


def test_question_that_stands_on_its_own_is_retrieved_on_its_own(client, tenant, bot):
    """A visitor who changes the subject gets the answer the question gets alone: earlier
    questions are mixed into retrieval only for a follow-up."""
    url = f"/api/{tenant.customer_id}/{bot['id']}/query"
    alone = tenant.post(url, json={"question": "Who won the 2014 FIFA World Cup?"}).json()
    first = tenant.post(url, json={"question": "Tell me about the Alpha 200 blender"}).json()
    assert "Alpha 200" in first["answer"]
    switched = tenant.post(
        url,
        json={"question": "Who won the 2014 FIFA World Cup?", "session_id": first["session_id"]},
    ).json()
    assert alone["sources"] == [] and alone["answer"] == NOT_FOUND_ANSWER
    assert (switched["answer"], switched["sources"]) == (alone["answer"], alone["sources"])


@pytest.mark.parametrize(
    ("script", "status"),
    [({"fail_next": {"status": 503, "times": 5}}, 502), ({"delay_next": {"seconds": 3}}, 504)],
)
def test_provider_failure_is_a_clear_error_and_keeps_the_question(
    fireworks, fake_llm, script, status
):
    client, tenant = fireworks(llm_max_retries=0, llm_timeout_seconds=1)
    bot = make_ready_bot(tenant)
    for name, kwargs in script.items():
        getattr(fake_llm, name)(**kwargs)
    r = ask(client, bot, "How long do I have to return an item?")
    assert r.status_code == status, r.text
    assert "fw-test-key" not in r.text and "Traceback" not in r.text
    assert r.json()["error"]["code"] in ("upstream_error", "upstream_timeout")
    [session] = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    [question] = tenant.get(f"/api/sessions/{session['id']}/messages").json()
    assert question["role"] == "user" and question["status"] == "failed"
    assert question["content"] == "How long do I have to return an item?"
    with client.app.state.sessionmaker() as db:
        assert db.scalar(select(func.count()).select_from(UsageRecord)) == 0
    assert tenant.get("/api/usage/summary").json()["tokens_used"] == 0


def test_stream_failing_midway_ends_with_an_error_event_and_keeps_the_question(fireworks, fake_llm):
    client, tenant = fireworks(llm_max_retries=0)
    bot = make_ready_bot(tenant)
    fake_llm.interrupt_stream(after_deltas=2, how="error")
    r = ask(client, bot, "How long do I have to return an item?", stream=True)
    evs = events(r)
    assert [n for n, _ in evs][0] == "sources" and evs[-1][0] == "error"
    assert evs[-1][1]["error"]["code"] == "upstream_error"
    [session] = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()
    [question] = tenant.get(f"/api/sessions/{session['id']}/messages").json()
    assert question["status"] == "failed"
    assert tenant.get("/api/usage/summary").json()["tokens_used"] == 0


def _metric(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`, in any order."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_questions_by_door_and_llm_calls_show_in_metrics(fireworks, fake_llm):
    client, tenant = fireworks()
    bot = make_ready_bot(tenant)
    before = client.get("/metrics").text
    fake_llm.reply_with("Within 30 days.", input_tokens=300, output_tokens=5)
    assert ask(client, bot, "How long do I have to return an item?").status_code == 200
    url = f"/api/{tenant.customer_id}/{bot['id']}/query"
    fake_llm.reply_with("It weighs 3.2 kg.", input_tokens=200, output_tokens=6)
    assert tenant.post(url, json={"question": "What does the Alpha 200 weigh?"}).status_code == 200

    after = client.get("/metrics").text

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("chat_queries_total", door="api") == 1
    assert grew("chat_queries_total", door="dashboard") == 1
    assert grew("llm_tokens_total", provider="fireworks", direction="input") == 500
    assert grew("llm_tokens_total", provider="fireworks", direction="output") == 11
    assert grew("llm_request_duration_seconds_count", provider="fireworks") == 2


def test_sessions_list_their_first_question_and_size_newest_first_with_paging(tenant, bot):
    url = f"/api/{tenant.customer_id}/{bot['id']}/query"
    first = tenant.post(url, json={"question": "What does the Beta 300 toaster weigh?"}).json()
    tenant.post(url, json={"question": "How many slots?", "session_id": first["session_id"]})
    second = tenant.post(url, json={"question": "How long do I have to return an item?"}).json()

    sessions = tenant.get(f"/api/chatbots/{bot['id']}/sessions").json()

    assert [s["id"] for s in sessions] == [second["session_id"], first["session_id"]]
    assert sessions[0]["first_question"] == "How long do I have to return an item?"
    assert sessions[1]["first_question"] == "What does the Beta 300 toaster weigh?"
    assert [s["message_count"] for s in sessions] == [2, 4]
    page = tenant.get(
        f"/api/chatbots/{bot['id']}/sessions",
        params={"limit": 1, "before": sessions[0]["last_message_at"]},
    ).json()
    assert [s["id"] for s in page] == [first["session_id"]]
