from __future__ import annotations

import threading
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.billing.invoices import Outcome, generate_invoice
from app.billing.service import current_period
from app.core.subjects import OperatorSubject
from tests.billing.conftest import ROLES
from tests.billing.factories import (
    add_plan,
    add_usage,
    ask,
    cents,
    db_of,
    make_ready_bot,
    set_plan,
    utc,
)

PRICE_IN, PRICE_OUT = "0.0030", "0.0125"


@pytest.fixture
def metered(tenant):
    """The tenant on a plan whose prices make every rounding visible."""
    add_plan(tenant, "metered", PRICE_IN, PRICE_OUT)
    set_plan(tenant, "metered")
    return tenant


def generate(tenant, period: str):
    return tenant.post("/api/billing/invoices/generate", params={"period": period})


def test_invoice_amount_is_the_records_times_the_plan_prices_to_the_cent(metered):
    shop, docs = metered.create_chatbot(name="Shop"), metered.create_chatbot(name="Docs")
    # Shop: 1,234,567 + 1 input tokens -> 3.703704 -> 3.70; 400 output -> 0.005 -> 0.01 (half up)
    add_usage(metered, shop, 1_234_567, 150, at=utc(2026, 10, 1, 0, 0, 0))
    add_usage(metered, shop, 1, 250, at=utc(2026, 10, 31, 23, 59, 59, 999_999))
    # Docs: 166,667 input -> 0.500001 -> 0.50; 2,000 output -> 0.025 -> 0.03 (half up, not even)
    add_usage(metered, docs, 166_000, 1_999, at=utc(2026, 10, 15, 12))
    add_usage(metered, docs, 667, 1, at=utc(2026, 10, 16, 12))
    # outside October: not on this invoice
    add_usage(metered, shop, 10**6, 10**6, at=utc(2026, 9, 30, 23, 59, 59, 999_999))
    add_usage(metered, docs, 10**6, 10**6, at=utc(2026, 11, 1, 0, 0, 0))

    r = generate(metered, "2026-10")
    assert r.status_code == 201, r.text
    invoice = r.json()

    lines = [(ln["description"], ln["kind"], ln["tokens"], ln["amount"]) for ln in invoice["lines"]]
    assert lines == [
        ("Docs: input tokens", "input", 166_667, "0.50"),
        ("Docs: output tokens", "output", 2_000, "0.03"),
        ("Shop: input tokens", "input", 1_234_568, "3.70"),
        ("Shop: output tokens", "output", 400, "0.01"),
    ]
    for line in invoice["lines"]:
        price = PRICE_IN if line["kind"] == "input" else PRICE_OUT
        assert Decimal(line["price_per_1k"]) == Decimal(price)
        assert Decimal(line["amount"]) == cents(line["tokens"], price)
    assert invoice["amount"] == "4.24"
    assert Decimal(invoice["amount"]) == sum(Decimal(ln["amount"]) for ln in invoice["lines"])
    assert invoice["input_tokens"] == 1_234_568 + 166_667
    assert invoice["output_tokens"] == 2_400
    assert invoice["lines"][0]["chatbot_id"] == docs["id"]
    assert (invoice["status"], invoice["plan"], invoice["currency"]) == ("issued", "metered", "USD")
    issued = date.fromisoformat(invoice["issued_at"][:10])
    assert date.fromisoformat(invoice["due_date"]) == issued + timedelta(days=30)
    assert invoice["billed_to"]["name"] == "Acme"
    assert metered.get(f"/api/billing/invoices/{invoice['id']}").json() == invoice


def test_generating_twice_makes_one_invoice(metered):
    add_usage(metered, metered.create_chatbot(), 5_000, 700, at=utc(2026, 10, 3))
    first = generate(metered, "2026-10")
    again = generate(metered, "2026-10")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    listed = metered.get("/api/billing/invoices").json()
    assert [i["invoice_number"] for i in listed] == [first.json()["invoice_number"]]


def test_numbers_are_unique_and_sequential_across_customers(metered, register):
    second, third = register("Globex"), register("Initech")
    for tenant in (metered, second, third):
        add_usage(tenant, tenant.create_chatbot(), 1_000, 1_000, at=utc(2026, 10, 9))
    add_usage(metered, metered.chatbots[0], 1_000, 1_000, at=utc(2025, 12, 9))

    numbers = [generate(t, "2026-10").json()["invoice_number"] for t in (second, metered, third)]
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"]
    assert generate(metered, "2026-10").json()["invoice_number"] == "INV-2026-000002"
    assert generate(metered, "2025-12").json()["invoice_number"] == "INV-2025-000001"


def test_running_month_is_a_draft_recomputed_until_the_month_ends(metered):
    bot = metered.create_chatbot()
    customer_id = uuid.UUID(metered.customer_id)

    def run(now):
        with db_of(metered) as db:
            generated = generate_invoice(db, OperatorSubject(customer_id), "2026-10", now=now)
            invoice = generated.invoice
            return generated.outcome, invoice.invoice_number, invoice.status, invoice.amount

    add_usage(metered, bot, 100_000, 0, at=utc(2026, 10, 2))
    assert run(utc(2026, 10, 10)) == (Outcome.CREATED, "INV-2026-000001", "draft", Decimal("0.30"))
    add_usage(metered, bot, 100_000, 0, at=utc(2026, 10, 20))
    assert run(utc(2026, 10, 21)) == (
        Outcome.REFRESHED,
        "INV-2026-000001",
        "draft",
        Decimal("0.60"),
    )
    add_usage(metered, bot, 0, 800, at=utc(2026, 10, 31, 23))
    assert run(utc(2026, 11, 1, 6)) == (
        Outcome.ISSUED,
        "INV-2026-000001",
        "issued",
        Decimal("0.61"),
    )
    add_usage(metered, bot, 10**6, 0, at=utc(2026, 10, 31, 23, 30))  # arrives too late
    assert run(utc(2026, 11, 2)) == (
        Outcome.UNCHANGED,
        "INV-2026-000001",
        "issued",
        Decimal("0.61"),
    )


def test_this_months_invoice_is_a_draft(metered):
    add_usage(metered, metered.create_chatbot(), 10_000, 10_000)
    invoice = generate(metered, current_period()).json()
    assert invoice["status"] == "draft"
    assert invoice["issued_at"] is None and invoice["due_date"] is None


@pytest.mark.parametrize(
    ("period", "why"),
    [("2999-01", "has not begun"), ("2026-10", "no usage"), ("2026-13", "period")],
)
def test_nothing_to_invoice_is_422(metered, period, why):
    r = generate(metered, period)
    assert r.status_code == 422
    assert why in r.json()["error"]["message"]
    assert metered.get("/api/billing/invoices").json() == []


@pytest.mark.parametrize("role", ROLES)
def test_only_owners_see_and_make_invoices(tenant, as_role, role):
    add_usage(tenant, tenant.create_chatbot(), 1_000, 1_000, at=utc(2026, 10, 9))
    invoice = generate(tenant, "2026-10").json()
    caller = as_role(role)
    expected = {"owner": 200, "admin": 403, "member": 403, "other": 404}[role]
    assert caller.get(f"/api/billing/invoices/{invoice['id']}").status_code == expected
    listed = caller.get("/api/billing/invoices")
    assert listed.status_code == (403 if role in ("admin", "member") else 200)
    if role == "other":
        assert listed.json() == []
    made = generate(caller, "2026-10")
    assert made.status_code == {"owner": 200, "admin": 403, "member": 403, "other": 422}[role]


def test_invoice_page_escapes_what_customers_wrote(register):
    owner = register('<script>alert("name")</script> & Sons')
    bot = owner.create_chatbot(name="<img src=x onerror=alert(1)>")
    owner.patch(
        "/api/billing/info",
        json={"address": "1 Main St\n<b>Springfield</b>", "tax_id": "<i>DE123</i>"},
    )
    add_usage(owner, bot, 2_000, 1_000, at=utc(2026, 10, 9))
    invoice = generate(owner, "2026-10").json()

    r = owner.get(f"/api/billing/invoices/{invoice['id']}", params={"format": "html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "script-src" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    page = r.text
    for raw in ("<script>", "<img", "<b>", "<i>"):
        assert raw not in page
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt; &amp; Sons" in page
    assert "&lt;img src=x onerror=alert(1)&gt;: input tokens" in page
    assert "1 Main St<br>&lt;b&gt;Springfield&lt;/b&gt;" in page
    assert invoice["invoice_number"] in page and invoice["amount"] in page

    browser = owner.get(f"/api/billing/invoices/{invoice['id']}", headers={"Accept": "text/html"})
    assert browser.headers["content-type"].startswith("text/html")
    plain = owner.get(f"/api/billing/invoices/{invoice['id']}")
    assert plain.headers["content-type"] == "application/json"


def test_concurrent_generations_get_distinct_sequential_numbers(metered, register, database_url):
    """The second generation waits for the first one's transaction, then takes the next number."""
    second = register("Globex")
    for tenant in (metered, second):
        add_usage(tenant, tenant.create_chatbot(), 1_000, 1_000, at=utc(2026, 10, 9))
    first_done, release = threading.Event(), threading.Event()
    numbers: dict[str, str] = {}

    def make(tenant, hold: bool):
        with db_of(tenant) as db:
            subject = OperatorSubject(uuid.UUID(tenant.customer_id))
            numbers[tenant.customer_id] = generate_invoice(
                db, subject, "2026-10"
            ).invoice.invoice_number
            if hold:
                first_done.set()
                release.wait(10)

    first = threading.Thread(target=make, args=(metered, True))
    first.start()
    assert first_done.wait(10)
    waiting = threading.Thread(target=make, args=(second, False))
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive(), "the second generation must wait for the first to commit"
    release.set()
    first.join(10)
    waiting.join(10)
    assert numbers == {
        metered.customer_id: "INV-2026-000001",
        second.customer_id: "INV-2026-000002",
    }


def test_concurrent_generations_for_one_customer_make_one_invoice(metered):
    add_usage(metered, metered.create_chatbot(), 1_000, 1_000, at=utc(2026, 10, 9))
    barrier = threading.Barrier(3)
    results: list[tuple[Outcome, str]] = []

    def make():
        barrier.wait(10)
        with db_of(metered) as db:
            subject = OperatorSubject(uuid.UUID(metered.customer_id))
            generated = generate_invoice(db, subject, "2026-10")
            results.append((generated.outcome, generated.invoice.invoice_number))

    threads = [threading.Thread(target=make) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o for o, _ in results) == [Outcome.CREATED, Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert {n for _, n in results} == {"INV-2026-000001"}
    assert len(metered.get("/api/billing/invoices").json()) == 1


def test_real_questions_become_an_invoice(fireworks):
    """Questions answered by an LLM (the Fireworks SDK against the loopback fake)."""
    client, tenant = fireworks()
    ready_bot = make_ready_bot(tenant)
    # real answers are a few hundred tokens: prices high enough for them to cost cents
    add_plan(tenant, "premium", "1.2345", "2.3456")
    set_plan(tenant, "premium")
    answers = []
    for question in ("How long do I have to return an item?", "What does the Alpha 200 weigh?"):
        r = ask(client, ready_bot, question)
        assert r.status_code == 200 and not r.json()["unanswered"], r.text
        answers.append(r.json()["usage"])
    tokens_in = sum(u["input_tokens"] for u in answers)
    tokens_out = sum(u["output_tokens"] for u in answers)

    report = tenant.get("/api/usage").json()
    assert (report["totals"]["input_tokens"], report["totals"]["output_tokens"]) == (
        tokens_in,
        tokens_out,
    )
    summary = tenant.get("/api/usage/summary").json()
    assert (summary["input_tokens"], summary["output_tokens"]) == (tokens_in, tokens_out)

    r = generate(tenant, current_period())
    assert r.status_code == 201, r.text
    invoice = r.json()
    assert [(ln["kind"], ln["tokens"]) for ln in invoice["lines"]] == [
        ("input", tokens_in),
        ("output", tokens_out),
    ]
    assert Decimal(invoice["amount"]) == cents(tokens_in, "1.2345") + cents(tokens_out, "2.3456")
    assert Decimal(invoice["amount"]) > 0
