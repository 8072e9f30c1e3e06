"""Plans: monthly token allowance and prices. Stored in code until plans become editable data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Plan:
    name: str
    monthly_tokens: int
    price_per_1k_input: Decimal
    price_per_1k_output: Decimal
    overage_allowed: bool


PLANS = {
    "free": Plan("free", 100_000, Decimal("0"), Decimal("0"), overage_allowed=False),
    "starter": Plan("starter", 2_000_000, Decimal("0.0005"), Decimal("0.0015"), False),
    "pro": Plan("pro", 20_000_000, Decimal("0.0004"), Decimal("0.0012"), overage_allowed=True),
}


def plan_for(name: str) -> Plan:
    return PLANS.get(name, PLANS["free"])
