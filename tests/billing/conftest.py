from __future__ import annotations

import pytest

from tests.billing.factories import make_ready_bot

ROLES = ("owner", "admin", "member", "other")


@pytest.fixture
def as_role(tenant, other_tenant):
    """The tenant's owner, an admin or member of it, or the other customer's owner."""

    def pick(role: str):
        if role == "owner":
            return tenant
        if role == "other":
            return other_tenant
        return tenant.add_user(role)

    return pick


@pytest.fixture
def ready_bot(tenant) -> dict:
    return make_ready_bot(tenant)
