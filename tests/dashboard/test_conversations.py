"""Conversations: the chatbot's sessions with a preview and message count, paged, and a transcript
with each answer's sources, rating and comment."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.test_playground import ready_bot

pytestmark = pytest.mark.browser

PAGE = 50  # sessions per page on the screen (Conversations.tsx)


def test_sessions_list_with_previews_and_a_transcript_with_sources(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    url = f"/api/{owner.customer_id}/{bot['id']}/query"
    first = owner.post(url, json={"question": "How long do I have to return an item?"}).json()
    second = owner.post(
        url, json={"question": "Is shipping free?", "session_id": first["session_id"]}
    ).json()
    owner.client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": "Is express delivery available?"},
        headers={"X-API-Key": bot["secret_key"]},
    )
    for answer, rating, comment in ((first, "down", "Say where to send it"), (second, "up", None)):
        rated = owner.client.post(
            f"/api/public/{bot['id']}/feedback",
            json={"message_id": answer["message_id"], "rating": rating, "comment": comment},
            headers={"X-API-Key": bot["secret_key"]},
        )
        assert rated.status_code == 201, rated.text
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/conversations", tenant=owner)

    sessions = page.get_by_role("list", name="Conversations")
    expect(sessions.get_by_role("listitem")).to_have_count(2)
    playground = sessions.get_by_role("link", name=re.compile("How long do I have to return"))
    expect(playground).to_contain_text("4 messages")
    expect(playground).to_contain_text("Playground")
    expect(sessions.get_by_role("link", name=re.compile("express delivery"))).to_contain_text("API")
    dashboard.check(page, "conversations")

    playground.click()
    expect(page).to_have_url(re.compile(f"/conversations/{first['session_id']}$"))
    transcript = page.get_by_role("region", name="Transcript")
    expect(transcript).to_contain_text("How long do I have to return an item?")
    expect(transcript).to_contain_text("30 days")
    expect(transcript).to_contain_text("50 euros")
    expect(transcript.get_by_role("list", name="Sources").first).to_contain_text("policy.txt")
    answers = transcript.locator(".bubble-bot")
    expect(answers.nth(0)).to_contain_text("Rated not helpful")
    expect(answers.nth(0)).to_contain_text("“Say where to send it”")
    expect(answers.nth(1)).to_contain_text("Rated helpful")
    expect(transcript.get_by_text("Rated", exact=False)).to_have_count(2)
    dashboard.check(page, "conversation-transcript")


def test_older_conversations_load_a_page_at_a_time(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Busy shop")
    for n in range(PAGE + 1):
        r = owner.client.post(
            f"/api/public/{bot['id']}/query",
            json={"question": f"Question number {n}?"},
            headers={"X-API-Key": bot["secret_key"]},
        )
        assert r.status_code == 200, r.text
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/conversations", tenant=owner)

    sessions = page.get_by_role("list", name="Conversations")
    expect(sessions.get_by_role("listitem")).to_have_count(PAGE)
    expect(sessions.get_by_role("listitem").first).to_contain_text(f"Question number {PAGE}?")
    expect(sessions.get_by_role("listitem").first).to_contain_text("2 messages")
    with page.expect_request(re.compile(r"/sessions\?limit=50&before=")):
        page.get_by_role("button", name="Show older conversations").click()
    expect(sessions.get_by_role("listitem")).to_have_count(PAGE + 1)
    expect(sessions.get_by_role("listitem").last).to_contain_text("Question number 0?")
    expect(page.get_by_role("button", name="Show older conversations")).to_have_count(0)


def test_no_conversations_yet_says_where_they_come_from(dashboard, live_api):
    owner = live_api.owner
    bot = owner.create_chatbot(name="Shop help")
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/conversations", tenant=owner)
    expect(page.get_by_role("heading", name="No conversations yet")).to_be_visible()


def test_a_question_the_model_failed_to_answer_says_why_in_the_transcript(
    llm_dashboard, live_llm_api, fake_llm
):
    owner = live_llm_api.owner
    bot = ready_bot(owner)
    fake_llm.fail_next(status=503, times=10)
    url = f"/api/{owner.customer_id}/{bot['id']}/query"
    failed = owner.post(url, json={"question": "How long do I have to return an item?"})
    assert failed.status_code == 502, failed.text
    [session] = owner.get(f"/api/chatbots/{bot['id']}/sessions").json()
    page = llm_dashboard.open(
        f"/dashboard/chatbots/{bot['id']}/conversations/{session['id']}", tenant=owner
    )
    transcript = page.get_by_role("region", name="Transcript")
    question = transcript.locator(".bubble", has_text="How long do I have to return an item?")
    expect(question.locator(".bubble-error")).to_contain_text("Failed:")
    expect(transcript.locator(".bubble-error")).to_have_count(1)
