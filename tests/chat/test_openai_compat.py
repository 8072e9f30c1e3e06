"""The official `openai` client talks to a chatbot over real HTTP."""

from __future__ import annotations

import openai
import pytest
from openai import OpenAI

from tests.chat.conftest import make_ready_bot
from tests.live import serve


@pytest.fixture
def live(app, client, tenant):
    bot = make_ready_bot(tenant)
    with serve(app) as base_url:
        yield OpenAI(base_url=f"{base_url}/v1", api_key=bot["secret_key"], max_retries=0), bot


QUESTION = [
    {"role": "system", "content": "ignored: the chatbot's own prompt governs"},
    {"role": "user", "content": "How long do I have to return an item?"},
]


def test_openai_client_gets_an_answer(live, tenant):
    client, bot = live
    completion = client.chat.completions.create(model=bot["id"], messages=QUESTION)
    assert "30 days" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    # the extractive answerer runs no LLM: nothing is billed
    assert completion.usage.total_tokens == completion.usage.prompt_tokens == 0
    assert tenant.get("/api/usage/summary").json()["queries"] == 1


def test_openai_client_gets_the_llms_usage_billed(fireworks, fake_llm):
    client, tenant = fireworks()
    bot = make_ready_bot(tenant)
    fake_llm.reply_with("Within 30 days.", input_tokens=321, output_tokens=4)
    with serve(client.app) as base_url:
        openai_client = OpenAI(base_url=f"{base_url}/v1", api_key=bot["secret_key"])
        completion = openai_client.chat.completions.create(model=bot["id"], messages=QUESTION)
    assert completion.choices[0].message.content == "Within 30 days."
    usage = completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (321, 4, 325)
    summary = tenant.get("/api/usage/summary").json()
    assert summary["tokens_used"] == 325


def test_openai_client_streams_with_usage(live):
    client, bot = live
    stream = client.chat.completions.create(
        model=bot["id"],
        messages=[
            {"role": "user", "content": "Tell me about the Alpha 200 blender"},
            {"role": "assistant", "content": "It is a blender with a 1200 W motor."},
            {"role": "user", "content": "How much does it weigh?"},
        ],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "3.2 kg" in text
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 0


def test_openai_client_errors_are_typed(live):
    client, bot = live
    bad_key = OpenAI(base_url=str(client.base_url), api_key="sk_nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.chat.completions.create(
            model=bot["id"], messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="not-a-chatbot", messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model=bot["id"], messages=[{"role": "assistant", "content": "no question"}]
        )


def test_models_lists_the_keys_chatbot_for_the_openai_client(live, tenant):
    client, bot = live
    tenant.create_chatbot(name="Another bot of the same customer")

    models = client.models.list()

    assert [m.id for m in models.data] == [bot["id"]]
    assert models.data[0].object == "model"
    widget_client = OpenAI(base_url=str(client.base_url), api_key=bot["widget_key"], max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        widget_client.models.list()


def _complete(client, bot, content):
    return client.post(
        "/v1/chat/completions",
        headers={"Authorization": f"Bearer {bot['secret_key']}"},
        json={"model": bot["id"], "messages": [{"role": "user", "content": content}]},
    )


@pytest.mark.parametrize("text", [42, None, ["a", "list"], {"nested": "object"}])
def test_content_part_text_of_the_wrong_type_is_a_422(client, tenant, text):
    r = _complete(client, make_ready_bot(tenant), [{"type": "text", "text": text}])
    if text is None:  # a text part without text is an empty question
        assert r.status_code == 400, r.text
    else:
        assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]


def test_content_parts_of_other_types_are_skipped(client, tenant):
    parts = [
        {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        {"type": "text", "text": "How long do I have to return an item?"},
    ]
    r = _complete(client, make_ready_bot(tenant), parts)
    assert r.status_code == 200, r.text
    assert "30 days" in r.json()["choices"][0]["message"]["content"]
