"""The allowance is reserved before each LLM call and settled after, so concurrent questions
cannot together spend far past it (on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from app.billing.models import UsageReservation
from app.billing.plans import plan_for
from app.billing.repository import ReservationRepository
from app.billing.service import current_period, reserve
from app.core.database import utcnow
from app.core.subjects import OperatorSubject
from tests.billing.factories import add_plan, add_usage, db_of, make_ready_bot, set_plan
from tests.fakes.llm_server import HOLD_SECONDS
from tests.live import serve
from tests.servers import wait_for

ALLOWANCE = 100_000
QUESTION = "How long do I have to return an item?"


def _capped_plan(tenant, bot, tokens_left: int) -> None:
    add_plan(tenant, "capped", "0.01", "0.02", monthly_tokens=ALLOWANCE, overage_allowed=False)
    set_plan(tenant, "capped")
    add_usage(tenant, bot, ALLOWANCE - tokens_left, 0)


def _reservations(tenant) -> int:
    subject = OperatorSubject(uuid.UUID(tenant.customer_id))
    with db_of(tenant) as db:
        return ReservationRepository(db).reserved(subject, current_period(), utcnow())


def test_thirty_concurrent_questions_with_200_tokens_left_pass_by_one_reservation(
    fireworks, fake_llm
):
    client, tenant = fireworks(
        rate_limit_public="1000/minute",
        rate_limit_public_per_ip="1000/minute",
        llm_timeout_seconds=HOLD_SECONDS,  # answers are held below; the fixture's 2 s would race
        customer_concurrency=30,
    )
    bot = make_ready_bot(tenant)
    _capped_plan(tenant, bot, tokens_left=200)
    # No answer comes before every question has reached the LLM or been refused, so all thirty
    # are in flight together however busy the machine (an answer settled early would free room
    # for one more question)
    release = fake_llm.hold_next(times=30)
    with serve(client.app) as url, ThreadPoolExecutor(max_workers=30) as pool:

        def ask(_: int) -> httpx.Response:
            return httpx.post(
                f"{url}/api/public/{bot['id']}/query",
                json={"question": QUESTION},
                headers={"X-API-Key": bot["secret_key"]},
                timeout=HOLD_SECONDS,
            )

        asked = [pool.submit(ask, n) for n in range(30)]
        try:
            wait_for(
                lambda: len(fake_llm.requests) + sum(f.done() for f in asked) >= len(asked),
                HOLD_SECONDS,
                "every question to reach the LLM or be refused",
            )
        finally:
            release.set()
        responses = [f.result() for f in asked]

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 402}, statuses
    answered = [r.json() for r in responses if r.status_code == 200]
    assert len(answered) >= 1
    summary = tenant.get("/api/usage/summary").json()
    over = summary["tokens_used"] - ALLOWANCE
    # one reservation is the prompt plus max_tokens (512): never more than that beyond
    biggest = max(a["usage"]["input_tokens"] for a in answered) + 512
    assert over <= biggest, (over, len(answered))
    assert len(answered) <= 2, statuses  # before: all thirty went through, 4,690 tokens over
    refused = next(r for r in responses if r.status_code == 402)
    assert "allowance" in refused.json()["error"]["message"]
    assert _reservations(tenant) == 0  # every reservation was settled


def test_a_failed_llm_call_gives_its_reservation_back(fireworks, fake_llm):
    client, tenant = fireworks(llm_max_retries=0)
    bot = make_ready_bot(tenant)
    _capped_plan(tenant, bot, tokens_left=5_000)
    fake_llm.fail_next(500)
    r = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": QUESTION},
        headers={"X-API-Key": bot["secret_key"]},
    )
    assert r.status_code == 502
    assert _reservations(tenant) == 0
    r = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": QUESTION},
        headers={"X-API-Key": bot["secret_key"]},
    )
    assert r.status_code == 200, r.text


def test_a_reservation_left_by_a_dead_process_expires(fireworks):
    client, tenant = fireworks()
    bot = make_ready_bot(tenant)
    _capped_plan(tenant, bot, tokens_left=5_000)
    subject = OperatorSubject(uuid.UUID(tenant.customer_id))
    with db_of(tenant) as db:
        reserve(db, subject, plan_for(db, "capped"), 4_000)
    assert _reservations(tenant) == 4_000
    with db_of(tenant) as db:
        for row in db.query(UsageReservation):
            row.expires_at = utcnow() - timedelta(seconds=1)
    assert _reservations(tenant) == 0


def test_the_extractive_answerer_reserves_and_bills_nothing(client, tenant):
    bot = make_ready_bot(tenant)
    _capped_plan(tenant, bot, tokens_left=1)
    r = client.post(
        f"/api/public/{bot['id']}/query",
        json={"question": QUESTION},
        headers={"X-API-Key": bot["secret_key"]},
    )
    assert r.status_code == 200, r.text
    assert r.json()["provider"] == "extractive" and r.json()["usage"]["total_tokens"] == 0
    summary = tenant.get("/api/usage/summary").json()
    # the usage added to set the scene counts as one question, this answer as the second
    assert summary["tokens_remaining"] == 1 and summary["queries"] == 2


def test_only_a_capped_plan_holds_a_reservation_while_the_llm_answers(fireworks, fake_llm):
    """A plan that allows overage bills whatever is used: there is no cap to hold tokens
    against, so its questions skip the reservation's writes."""
    client, tenant = fireworks(llm_timeout_seconds=HOLD_SECONDS)
    bot = make_ready_bot(tenant)
    held = {}
    for plan, overage in (("capped-hold", False), ("open-hold", True)):
        add_plan(tenant, plan, "0.01", "0.02", monthly_tokens=ALLOWANCE, overage_allowed=overage)
        set_plan(tenant, plan)
        release = fake_llm.hold_next()
        with serve(client.app) as url, ThreadPoolExecutor(1) as pool:
            asked = pool.submit(
                httpx.post,
                f"{url}/api/public/{bot['id']}/query",
                json={"question": QUESTION},
                headers={"X-API-Key": bot["secret_key"]},
                timeout=HOLD_SECONDS,
            )
            try:
                wait_for(
                    lambda: len(fake_llm.requests) == len(held) + 1,
                    HOLD_SECONDS,
                    "the question to reach the LLM",
                )
                held[plan] = _reservations(tenant)  # while the LLM is still answering
            finally:
                release.set()
            assert asked.result().status_code == 200
        assert _reservations(tenant) == 0
    assert held["capped-hold"] > 512 and held["open-hold"] == 0, held
