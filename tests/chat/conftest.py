"""A chatbot with a small product catalogue, ingested for real, for the query tests."""

from __future__ import annotations

import pytest

from tests.api.test_documents import upload, wait_until_done

CATALOGUE = """# Alpha 200 blender

The Alpha 200 blender has a 1200 W motor and a 1.5 litre glass jar.
The Alpha 200 blender weighs 3.2 kg.

# Beta 300 toaster

The Beta 300 toaster has four slots and seven browning levels.
The Beta 300 toaster weighs 1.1 kg.

# Returns

Returns are accepted within 30 days of delivery. Refunds go back to the original payment
method within five business days.
"""

SYSTEM_PROMPT = "You are Kitchenware Co's assistant. Be concise."


def make_ready_bot(tenant, **body) -> dict:
    body.setdefault("name", "Kitchen help")
    body.setdefault("system_prompt", SYSTEM_PROMPT)
    bot = tenant.create_chatbot(**body)
    doc = upload(tenant, bot["id"], "catalogue.md", CATALOGUE.encode()).json()[0]
    assert wait_until_done(tenant, doc["id"])["status"] == "ready"
    bot["document_id"] = doc["id"]
    return bot


@pytest.fixture
def bot(tenant) -> dict:
    return make_ready_bot(tenant)
