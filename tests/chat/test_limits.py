"""One customer's pasted book must not stall the shared engine: every door caps the question in
characters and embedding tokens, and retrieval embeds only what fits the model's window."""

from __future__ import annotations

import pytest

from app.chat.prompt import Turn, clip_to_tokens, retrieval_query
from app.chat.schemas import MAX_QUESTION_TOKENS
from app.core.vectors import embedder_for
from tests.chat.test_query import ask

# about 3.4 tokens a word for e5's tokenizer: under 4,000 characters, well past 1,024 tokens
DENSE = " ".join(f"x{i}y" for i in range(600))


def _openai(client, bot, messages):
    return client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {bot['secret_key']}"},
        json={"model": bot["id"], "messages": messages},
    )


def _nothing_recorded(tenant, bot):
    assert tenant.get("/api/usage/summary").json()["queries"] == 0
    assert tenant.get(f"/api/chatbots/{bot['id']}/sessions").json() == []


def test_a_million_character_openai_message_is_refused_and_costs_nothing(client, tenant, bot):
    r = _openai(client, bot, [{"role": "user", "content": "a" * 1_000_000}])
    assert r.status_code in (413, 422), r.text
    _nothing_recorded(tenant, bot)


def test_openai_question_is_capped_like_every_door(client, tenant, bot):
    r = _openai(client, bot, [{"role": "user", "content": "x" * 4001}])
    assert r.status_code == 422
    assert "4,000" in r.json()["error"]["message"]
    long_history = [{"role": "user", "content": "y" * 3000}] * 11 + [
        {"role": "user", "content": "How long do I have to return an item?"}
    ]
    r = _openai(client, bot, long_history)
    assert r.status_code == 422
    assert "characters" in r.json()["error"]["message"]
    _nothing_recorded(tenant, bot)


@pytest.mark.parametrize("door", ["public", "dashboard", "openai"])
def test_a_question_over_the_token_cap_is_422_on_every_door(client, tenant, bot, door):
    assert len(DENSE) < 4000
    if door == "public":
        r = ask(client, bot, DENSE)
    elif door == "dashboard":
        r = tenant.post(f"/api/{tenant.customer_id}/{bot['id']}/query", json={"question": DENSE})
    else:
        r = _openai(client, bot, [{"role": "user", "content": DENSE}])
    assert r.status_code == 422, r.text
    assert "tokens" in r.json()["error"]["message"]
    _nothing_recorded(tenant, bot)


def test_retrieval_embeds_at_most_the_models_window(settings):
    embedder = embedder_for(settings)
    window = embedder.max_tokens
    long_question = "Which warranty covers the pump? " * 100
    assert embedder.count_tokens(long_question) > window

    clipped = clip_to_tokens(long_question, embedder.count_tokens, window)
    assert embedder.count_tokens(clipped) <= window
    assert long_question.startswith(clipped) and len(clipped) > len(long_question) / 3

    history = [Turn("Tell me about the Alpha 200 blender " * 80, "It blends.")]
    query = retrieval_query("How much does it weigh?", history, embedder.count_tokens, window)
    assert query == "How much does it weigh?"  # the long previous question does not fit
    short = [Turn("Tell me about the Alpha 200 blender", "It blends.")]
    query = retrieval_query("How much does it weigh?", short, embedder.count_tokens, window)
    assert query == "Tell me about the Alpha 200 blender How much does it weigh?"
    assert window <= MAX_QUESTION_TOKENS
