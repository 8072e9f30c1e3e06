"""Running totals stay exact under concurrent queries: they only change by SQL increments."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.billing.repository import UsageRepository
from app.billing.service import period_totals
from app.core.subjects import OperatorSubject
from tests.chat.conftest import make_ready_bot
from tests.live import serve

QUESTIONS = [
    "How long do I have to return an item?",
    "What does the Alpha 200 blender weigh?",
    "How many slots does the Beta 300 toaster have?",
    "What motor does the Alpha 200 have?",
    "When do refunds arrive?",
]


def test_fifty_concurrent_queries_leave_exact_totals(fireworks):
    client, tenant = fireworks(
        rate_limit_public="1000/minute", rate_limit_public_per_ip="1000/minute"
    )
    app = client.app
    bot = make_ready_bot(tenant)
    with serve(app) as base_url:

        def ask(i: int) -> int:
            r = httpx.post(
                f"{base_url}/api/public/{bot['id']}/query",
                json={"question": QUESTIONS[i % len(QUESTIONS)]},
                headers={"X-API-Key": bot["secret_key"]},
                timeout=120,
            )
            return r.status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(ask, range(50)))
    assert statuses == [200] * 50
    with app.state.sessionmaker() as db:
        subject = OperatorSubject(uuid.UUID(tenant.customer_id))
        totals = period_totals(db, subject)
        input_sum, output_sum = UsageRepository(db).sums(subject)
    assert totals.queries == 50
    assert (totals.input_tokens, totals.output_tokens) == (input_sum, output_sum)
    assert input_sum > 0 and output_sum > 0
