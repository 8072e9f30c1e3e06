"""Analytics: questions and tokens per day as charts, the most frequent questions, the unanswered
ones as a to-do list, and the thumbs up/down ratio."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.billing.factories import add_usage
from tests.dashboard.test_playground import ready_bot

pytestmark = pytest.mark.browser


def test_analytics_show_questions_tokens_gaps_and_ratings(dashboard, live_api):
    owner = live_api.owner
    bot = ready_bot(owner)
    key = {"X-API-Key": bot["secret_key"]}
    url = f"/api/public/{bot['id']}/query"
    asked = [
        owner.client.post(url, json={"question": question}, headers=key).json()
        for question in ("Is shipping free?", "Is shipping free?", "How long do I have to return?")
    ]
    asked_unanswered = owner.client.post(
        url, json={"question": "Do you sell bicycles?"}, headers=key
    ).json()
    add_usage(owner, bot, 900, 100, app=live_api.app)  # the extractive answers cost nothing
    add_usage(owner, owner.create_chatbot(name="Other shop"), 4_000, 1_000, app=live_api.app)
    for answer, rating in zip(asked, ("up", "up", "down"), strict=True):
        r = owner.client.post(
            f"/api/public/{bot['id']}/feedback",
            json={"message_id": answer["message_id"], "rating": rating},
            headers=key,
        )
        assert r.status_code == 201, r.text
    page = dashboard.open(f"/dashboard/chatbots/{bot['id']}/analytics", tenant=owner)

    stats = page.locator("dl.stats")
    expect(stats).to_contain_text("Questions4")
    expect(stats).to_contain_text("Unanswered1")
    questions = page.get_by_role("img", name=re.compile(r"^Questions per day: "))
    expect(questions).to_have_attribute("aria-label", re.compile("4 questions over 30 days"))
    usage = owner.get("/api/usage", params={"chatbot_id": bot["id"]}).json()
    tokens = usage["totals"]["total_tokens"]
    assert tokens == 1_000 + sum(a["usage"]["total_tokens"] for a in asked + [asked_unanswered])
    chart = page.get_by_role("img", name=re.compile(r"^Tokens per day: "))
    expect(chart).to_have_attribute("aria-label", re.compile(f": {tokens:,} tokens"))
    top = page.get_by_role("region", name="Most frequent questions")
    expect(top.get_by_role("listitem").first).to_contain_text("is shipping free")
    expect(top.get_by_role("listitem").first).to_contain_text("2×")
    todo = page.get_by_role("list", name="To do: questions the documents miss")
    expect(todo).to_contain_text("do you sell bicycles")
    ratings = page.get_by_role("region", name="Ratings")
    expect(ratings).to_contain_text("67% of 3 rated answers were helpful (2 up, 1 down)")
    dashboard.check(page, "analytics")

    page.get_by_role("button", name="7 days").click()
    expect(page.get_by_role("button", name="7 days")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("img", name=re.compile(r"over 7 days"))).to_have_count(2)
