"""Playground: streamed answers with their sources (score and quoted text), follow-ups in one
session, a new chat that starts another, a near-miss's related passages, and thumbs for owners
and admins."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.api.test_documents import TEXT, upload, wait_until_done
from tests.chat.conftest import make_ready_bot
from tests.chat.test_near_miss import NEAR_MISS
from tests.widget.test_widget_browser import MARKDOWN_ANSWER, assert_markdown_rendered_safely

pytestmark = pytest.mark.browser


def ask(page: Page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def ready_bot(owner) -> dict:
    bot = owner.create_chatbot(name="Shop help")
    doc = upload(owner, bot["id"], "policy.txt", TEXT.encode()).json()[0]
    assert wait_until_done(owner, doc["id"])["status"] == "ready"
    return bot


def test_answers_stream_with_sources_and_follow_ups_share_a_session(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/playground", tenant=owner)
    expect(page.get_by_label("Your question")).to_be_focused()
    dashboard.check(page, "playground-empty")

    with page.expect_response(lambda r: r.url.endswith("/query")) as answered:
        ask(page, "How long do I have to return an item?")
    assert answered.value.headers["content-type"].startswith("text/event-stream")
    assert f"/api/{owner.customer_id}/{bot['id']}/query" in answered.value.url
    log = page.get_by_role("log", name="Conversation")
    turn = log.get_by_role("article", name="How long do I have to return an item?")
    expect(turn).to_contain_text("30 days")
    sources = turn.get_by_role("list", name="Sources")
    expect(sources).to_contain_text("policy.txt")
    expect(sources).to_contain_text(re.compile(r"score [01]\.\d\d"))
    sources.get_by_text("policy.txt").click()
    expect(sources.locator("blockquote")).to_contain_text("Returns are accepted within 30 days")
    expect(turn).to_contain_text("tokens")

    ask(page, "Is shipping free?")
    follow_up = log.get_by_role("article", name="Is shipping free?")
    expect(follow_up).to_contain_text("50 euros")
    expect(follow_up).to_contain_text("tokens")  # `done`: the exchange is recorded
    expect(page.get_by_label("Your question")).to_be_focused()
    dashboard.check(page, "playground")
    sessions = owner.get(f"/api/chatbots/{bot['id']}/sessions").json()
    assert len(sessions) == 1
    assert len(owner.get(f"/api/sessions/{sessions[0]['id']}/messages").json()) == 4

    # a reload keeps the conversation, sources included; a follow-up stays in its session
    page.reload()
    expect(log.get_by_role("article")).to_have_count(2)
    expect(turn).to_contain_text("30 days")
    expect(turn.get_by_role("list", name="Sources")).to_contain_text("policy.txt")
    ask(page, "Is shipping free?")
    expect(log.get_by_role("article")).to_have_count(3)
    expect(log.get_by_role("article").last).to_contain_text("tokens")
    assert len(owner.get(f"/api/chatbots/{bot['id']}/sessions").json()) == 1

    # a new chat is new after a reload too
    page.get_by_role("button", name="New chat").click()
    expect(log.get_by_role("article")).to_have_count(0)
    page.reload()
    expect(log).to_contain_text("No questions yet")
    expect(log.get_by_role("article")).to_have_count(0)
    ask(page, "Is shipping free?")
    expect(log.get_by_role("article", name="Is shipping free?")).to_contain_text("tokens")
    assert len(owner.get(f"/api/chatbots/{bot['id']}/sessions").json()) == 2


def test_question_no_document_answers_says_so(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/playground", tenant=owner)

    ask(page, "Quelle est la capitale de la Mongolie ?")

    turn = page.get_by_role("log").get_by_role("article")
    expect(turn).to_contain_text("No document answered this")


def test_near_miss_shows_the_closest_passages_as_related_not_as_sources(dashboard, live_api):
    owner = live_api.owner
    bot = make_ready_bot(owner)
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/playground", tenant=owner)
    log = page.get_by_role("log", name="Conversation")

    ask(page, "Does the Alpha 200 blender have a glass jar?")
    answered = log.get_by_role("article", name="Does the Alpha 200 blender have a glass jar?")
    expect(answered).to_contain_text("tokens")
    expect(answered.get_by_role("list", name="Sources")).to_contain_text("catalogue.md")
    expect(answered.get_by_role("list", name="Related")).to_have_count(0)

    ask(page, NEAR_MISS)
    refused = log.get_by_role("article", name=NEAR_MISS)
    expect(refused).to_contain_text("tokens")
    expect(refused).to_contain_text("I couldn't find “BX-900” in the documents I have.")
    expect(refused).to_contain_text("No document answered this")
    expect(refused.get_by_role("list", name="Sources")).to_have_count(0)
    related = refused.get_by_role("list", name="Related")
    expect(related).to_have_accessible_name(
        "Related: the closest passages; they may not answer the question"
    )
    expect(related.locator(".source-n")).to_have_count(0)  # no citation numbers
    passage = related.get_by_role("listitem").first
    expect(passage).to_contain_text("catalogue.md")
    passage.get_by_text("catalogue.md").click()
    expect(passage.locator("blockquote")).to_contain_text("Alpha 200 blender")
    dashboard.check(page, "playground-related")


def test_a_refused_question_shows_the_servers_reason_in_the_chat(dashboard, live_api, monkeypatch):
    owner = live_api.owner
    bot = ready_bot(owner)
    monkeypatch.setattr(live_api.app.state.settings, "demo_message_limit", 1)
    dashboard.allow_console("status of 429")
    page = dashboard.open(
        f"/dashboard/chatbots/{bot['id']}/playground", tenant=owner.add_user("member")
    )

    ask(page, "Is shipping free?")
    log = page.get_by_role("log", name="Conversation")
    expect(log.get_by_role("article", name="Is shipping free?")).to_contain_text("tokens")
    ask(page, "How long do I have to return an item?")

    refused = log.get_by_role("article", name="How long do I have to return an item?")
    expect(page.get_by_role("group", name="Rate this answer")).to_have_count(0)  # a member
    expect(refused.get_by_role("alert")).to_have_text(
        "The free plan's demo allows 1 messages per user and chatbot, and they are used up. "
        "Ask an owner to upgrade the plan."
    )
    expect(page.get_by_label("Your question")).to_be_enabled()


def test_staff_rate_answers_with_thumbs_and_the_transcript_shows_it(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/playground", tenant=owner)
    log = page.get_by_role("log", name="Conversation")

    ask(page, "How long do I have to return an item?")
    first = log.get_by_role("article", name="How long do I have to return an item?")
    with page.expect_response(re.compile(r"/api/chatbots/[^/]+/feedback$")) as rated:
        first.get_by_role("button", name="Helpful", exact=True).click()
    assert rated.value.status == 201
    expect(first).to_contain_text("Rated helpful")
    expect(first.get_by_role("group", name="Rate this answer")).to_have_count(0)
    ask(page, "Is shipping free?")
    second = log.get_by_role("article", name="Is shipping free?")
    second.get_by_role("button", name="Not helpful").click()
    expect(second).to_contain_text("Rated not helpful")
    dashboard.check(page, "playground-rated")

    stats = owner.get(f"/api/chatbots/{bot['id']}/analytics").json()["feedback"]
    assert (stats["up"], stats["down"]) == (1, 1)
    [session] = owner.get(f"/api/chatbots/{bot['id']}/sessions").json()
    page.goto(f"/dashboard/chatbots/{bot['id']}/conversations/{session['id']}")
    answers = page.get_by_role("region", name="Transcript").locator(".bubble-bot")
    expect(answers.nth(0)).to_contain_text("Rated helpful")
    expect(answers.nth(1)).to_contain_text("Rated not helpful")


def test_markdown_in_an_answer_is_rendered_and_html_stays_text(
    llm_dashboard, live_llm_api, fake_llm
):
    owner = live_llm_api.owner
    bot = ready_bot(owner)
    fake_llm.reply_with(MARKDOWN_ANSWER)
    page = llm_dashboard.open(f"/dashboard/chatbots/{bot['id']}/playground", tenant=owner)
    ask(page, "How long do I have to return an item?")
    turn = page.get_by_role("article", name="How long do I have to return an item?")
    expect(turn).to_contain_text("tokens")
    assert_markdown_rendered_safely(page, turn.locator(".answer"))
    llm_dashboard.check(page, "playground-markdown")
