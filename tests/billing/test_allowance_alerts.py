"""Owners get one email at 80 % and one at 100 % of the period's allowance, once per period,
however many answers cross the line at the same time; through a real SMTP server on loopback."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.billing.factories import add_plan, add_usage, ask, make_ready_bot, set_plan
from tests.live import serve
from tests.mailbox import link_in, text_of

ALLOWANCE = 10_000
QUESTION = "How long do I have to return an item?"


def _metered(fireworks, mailbox, used: int, allowance: int = ALLOWANCE, **settings: object):
    """An app answering through the fake LLM, a tenant on a plan of `allowance` tokens with
    `used` of them spent, and its ready chatbot."""
    client, tenant = fireworks(**mailbox.settings(), **settings)
    bot = make_ready_bot(tenant)
    add_plan(tenant, "metered", "0.01", "0.02", monthly_tokens=allowance, overage_allowed=True)
    set_plan(tenant, "metered")
    add_usage(tenant, bot, used, 0)
    return client, tenant, bot


def _alerts(mailbox, tenant) -> list[str]:
    return [m["Subject"] for m in mailbox.to(tenant.email)]


def test_crossing_80_then_100_percent_emails_the_owner_once_each(fireworks, fake_llm, mailbox):
    client, tenant, bot = _metered(fireworks, mailbox, used=7_500)
    fake_llm.reply_with("Within 30 days.", input_tokens=100, output_tokens=100)
    assert ask(client, bot, QUESTION).status_code == 200  # 7,700: under 80 %
    fake_llm.reply_with("Within 30 days.", input_tokens=200, output_tokens=200, times=2)
    assert ask(client, bot, QUESTION).status_code == 200  # 8,100: 80 % reached
    [alert] = mailbox.wait_for(tenant.email)
    assert alert["Subject"].startswith("Acme has used 80 % of its ")
    text = text_of(alert)
    assert "8,100 of 10,000 tokens" in text and "metered plan" in text
    assert link_in(alert, "/dashboard/usage")
    assert ask(client, bot, QUESTION).status_code == 200  # 8,500: still past 80 %, no new alert
    fake_llm.reply_with("Within 30 days.", input_tokens=1_000, output_tokens=600)
    assert ask(client, bot, QUESTION).status_code == 200  # 10,100: 100 % reached
    first, second = mailbox.wait_for(tenant.email, count=2)
    assert "100 %" in second["Subject"] and "further usage is billed as overage" in text_of(
        second
    ).lower().replace("\n", " ")
    assert len(_alerts(mailbox, tenant)) == 2


def test_an_answer_that_jumps_past_both_sends_only_the_100_percent_alert(
    fireworks, fake_llm, mailbox
):
    client, tenant, bot = _metered(fireworks, mailbox, used=7_000)
    fake_llm.reply_with("Within 30 days.", input_tokens=2_000, output_tokens=1_500)
    assert ask(client, bot, QUESTION).status_code == 200
    [alert] = mailbox.wait_for(tenant.email)
    assert "100 %" in alert["Subject"]
    fake_llm.reply_with("Within 30 days.", input_tokens=10, output_tokens=10)
    assert ask(client, bot, QUESTION).status_code == 200
    emails = tenant.get("/api/emails").json()
    assert [e["kind"] for e in emails] == ["allowance_alert"]


def test_twenty_answers_crossing_at_once_send_one_alert(fireworks, fake_llm, mailbox):
    client, tenant, bot = _metered(
        fireworks,
        mailbox,
        # each answer costs a few hundred tokens (the fake counts words): together they cross
        # 80 % and stay under 100 %
        used=79_900,
        allowance=100_000,
        rate_limit_public="1000/minute",
        rate_limit_public_per_ip="1000/minute",
        customer_concurrency=20,
        llm_timeout_seconds=60,
    )
    # every answer is held until all twenty are at the LLM, then they record together
    release = fake_llm.hold_next(times=20)
    with serve(client.app) as url, ThreadPoolExecutor(max_workers=20) as pool:

        def one(_: int) -> int:
            return httpx.post(
                f"{url}/api/public/{bot['id']}/query",
                json={"question": QUESTION},
                headers={"X-API-Key": bot["secret_key"]},
                timeout=120,
            ).status_code

        futures = [pool.submit(one, i) for i in range(20)]
        while len(fake_llm.requests) < 20 and not all(f.done() for f in futures):
            time.sleep(0.05)
        release.set()
        statuses = [f.result() for f in futures]
    assert statuses == [200] * 20
    [alert] = mailbox.wait_for(tenant.email)
    assert "80 %" in alert["Subject"]
    emails = tenant.get("/api/emails").json()
    assert len(emails) == 1 and emails[0]["status"] == "sent"
