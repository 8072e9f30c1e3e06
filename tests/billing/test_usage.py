from __future__ import annotations

from collections import defaultdict
from datetime import UTC

import pytest

from tests.billing.conftest import ROLES
from tests.billing.factories import add_usage, ask, usage_records, utc


def test_usage_by_day_and_by_chatbot_adds_up_to_the_records(tenant):
    shop, docs = tenant.create_chatbot(name="Shop"), tenant.create_chatbot(name="Docs")
    add_usage(tenant, shop, 1_001, 77, at=utc(2026, 3, 1, 0, 0, 0))
    add_usage(tenant, shop, 333, 19, at=utc(2026, 3, 1, 23, 59, 59, 999_999))
    add_usage(tenant, docs, 4_567, 891, at=utc(2026, 3, 2, 12))
    add_usage(tenant, shop, 12, 3, at=utc(2026, 3, 4, 8))
    add_usage(tenant, docs, 999, 999, at=utc(2026, 2, 28, 23, 59, 59))  # before the range
    add_usage(tenant, docs, 999, 999, at=utc(2026, 3, 5, 0, 0, 0))  # after it

    r = tenant.get("/api/usage", params={"start": "2026-03-01", "end": "2026-03-04"})
    assert r.status_code == 200, r.text
    report = r.json()

    in_range = [
        rec for rec in usage_records(tenant) if utc(2026, 3, 1) <= _aware(rec) < utc(2026, 3, 5)
    ]
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_bot: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for rec in in_range:
        for bucket in (per_day[_aware(rec).date().isoformat()], per_bot[str(rec.chatbot_id)]):
            bucket[0] += rec.input_tokens
            bucket[1] += rec.output_tokens
            bucket[2] += 1

    assert [d["date"] for d in report["by_day"]] == [
        "2026-03-01",
        "2026-03-02",
        "2026-03-03",
        "2026-03-04",
    ]
    for day in report["by_day"]:
        expected = per_day.get(day["date"], [0, 0, 0])
        assert [day["input_tokens"], day["output_tokens"], day["queries"]] == expected
        assert day["total_tokens"] == day["input_tokens"] + day["output_tokens"]
    assert {
        b["chatbot_id"]: [b["input_tokens"], b["output_tokens"], b["queries"]]
        for b in report["by_chatbot"]
    } == per_bot
    assert [b["chatbot_name"] for b in report["by_chatbot"]] == ["Docs", "Shop"]
    totals = report["totals"]
    assert (
        totals["input_tokens"] == sum(r.input_tokens for r in in_range) == 1_001 + 333 + 4_567 + 12
    )
    assert totals["output_tokens"] == sum(r.output_tokens for r in in_range) == 77 + 19 + 891 + 3
    assert totals["queries"] == len(in_range) == 4
    assert tenant.get("/api/usage", params={"end": "2026-03-04"}).json() == report


def test_usage_of_one_chatbot_counts_only_its_records(tenant):
    shop, docs = tenant.create_chatbot(name="Shop"), tenant.create_chatbot(name="Docs")
    add_usage(tenant, shop, 1_001, 77, at=utc(2026, 3, 1, 9))
    add_usage(tenant, docs, 4_567, 891, at=utc(2026, 3, 1, 10))
    add_usage(tenant, shop, 12, 3, at=utc(2026, 3, 3, 8))
    add_usage(tenant, shop, 999, 999, at=utc(2026, 3, 5))  # after the range
    span = {"start": "2026-03-01", "end": "2026-03-04"}

    report = tenant.get("/api/usage", params={**span, "chatbot_id": shop["id"]}).json()

    assert [d["total_tokens"] for d in report["by_day"]] == [1_001 + 77, 0, 12 + 3, 0]
    assert [d["queries"] for d in report["by_day"]] == [1, 0, 1, 0]
    assert report["totals"] == {
        "input_tokens": 1_013,
        "output_tokens": 80,
        "total_tokens": 1_093,
        "queries": 2,
        "llm_calls": 2,
    }
    assert [(b["chatbot_name"], b["total_tokens"]) for b in report["by_chatbot"]] == [
        ("Shop", 1_093)
    ]
    idle = tenant.create_chatbot(name="Idle")
    quiet = tenant.get("/api/usage", params={**span, "chatbot_id": idle["id"]}).json()
    assert quiet["totals"]["total_tokens"] == 0 and quiet["by_chatbot"] == []
    everything = tenant.get("/api/usage", params=span).json()
    assert everything["totals"]["total_tokens"] == 1_093 + 4_567 + 891


def test_offline_answers_count_as_questions_not_as_llm_calls(client, tenant, ready_bot):
    """The test app answers with the extractive answerer, which calls no language model."""
    for question in ("How much does the blender weigh?", "How long do I have to return an item?"):
        answer = ask(client, ready_bot, question).json()
        assert answer["provider"] == "extractive" and not answer["unanswered"], answer
    add_usage(tenant, ready_bot, 1_000, 100)  # an answer a language model wrote

    report = tenant.get("/api/usage").json()

    assert {r.provider for r in usage_records(tenant)} == {"extractive", "test"}
    assert (report["totals"]["queries"], report["totals"]["llm_calls"]) == (3, 1)
    (bot,) = report["by_chatbot"]
    assert (bot["queries"], bot["llm_calls"]) == (3, 1)
    assert sum(d["llm_calls"] for d in report["by_day"]) == 1


def test_usage_of_an_unknown_chatbot_is_404(tenant):
    r = tenant.get("/api/usage", params={"chatbot_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"})
    assert r.status_code == 404
    assert r.json()["error"]["message"] == "Chatbot not found"
    assert tenant.get("/api/usage", params={"chatbot_id": "shop"}).status_code == 422


def _aware(record):
    # SQLite returns naive UTC timestamps, PostgreSQL aware ones
    at = record.created_at
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def test_summary_and_this_months_report_equal_the_records(tenant, other_tenant):
    shop, docs = tenant.create_chatbot(name="Shop"), tenant.create_chatbot(name="Docs")
    add_usage(tenant, shop, 1_234, 56)
    add_usage(tenant, docs, 789, 1_011)
    add_usage(other_tenant, other_tenant.create_chatbot(name="Theirs"), 50_000, 50_000)

    summary = tenant.get("/api/usage/summary").json()
    report = tenant.get("/api/usage").json()  # default: this month up to today
    records = usage_records(tenant)
    assert summary["input_tokens"] == report["totals"]["input_tokens"] == 1_234 + 789
    assert summary["output_tokens"] == report["totals"]["output_tokens"] == 56 + 1_011
    assert sum(r.input_tokens + r.output_tokens for r in records) == summary["tokens_used"]
    assert summary["tokens_remaining"] == summary["allowance"] - summary["tokens_used"]
    assert summary["plan"] == "free" and summary["allowance"] == 100_000
    assert summary["overage_allowed"] is False
    assert report["end"] == report["by_day"][-1]["date"]


def test_another_customers_usage_is_never_counted(tenant, other_tenant):
    add_usage(tenant, tenant.create_chatbot(name="Mine"), 500, 500)
    theirs = other_tenant.get("/api/usage").json()
    assert theirs["totals"] == {
        "input_tokens": 0,
        "output_tokens": 0,
        "total_tokens": 0,
        "queries": 0,
        "llm_calls": 0,
    }
    assert theirs["by_chatbot"] == []
    assert other_tenant.get("/api/usage/summary").json()["tokens_used"] == 0


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_its_own_usage(tenant, as_role, role):
    add_usage(tenant, tenant.create_chatbot(name="Mine"), 40, 2)
    caller = as_role(role)
    r = caller.get("/api/usage")
    assert r.status_code == 200
    assert r.json()["totals"]["total_tokens"] == (0 if role == "other" else 42)
    assert caller.get("/api/usage/summary").status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-03-05", "end": "2026-03-04"},
        {"start": "2025-01-01", "end": "2026-03-04"},
        {"start": "2026-02-30"},
        {"start": "yesterday"},
    ],
)
def test_bad_date_ranges_are_422(tenant, params):
    r = tenant.get("/api/usage", params=params)
    assert r.status_code == 422
    assert r.json()["error"]["code"] in ("unprocessable", "validation_error")


def test_usage_needs_a_token(client):
    assert client.get("/api/usage").status_code == 401
