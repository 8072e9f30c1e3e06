from __future__ import annotations

import pytest

from tests.billing.conftest import ROLES
from tests.billing.factories import add_usage, utc

CHANGES = {
    "billing_email": "accounts@acme.example",
    "address": "1 Main St\nSpringfield",
    "tax_id": "DE123456789",
    "retention_days": 30,
}


@pytest.mark.parametrize("role", ROLES)
def test_billing_info_is_read_by_owners_and_admins_only(tenant, as_role, role):
    tenant.patch("/api/billing/info", json=CHANGES)
    r = as_role(role).get("/api/billing/info")
    if role in ("owner", "admin"):
        assert r.status_code == 200
        assert {k: r.json()[k] for k in CHANGES} == CHANGES
        assert r.json()["plan"] == {
            "name": "free",
            "monthly_tokens": 100_000,
            "price_per_1k_input": "0.000000",
            "price_per_1k_output": "0.000000",
            "overage_allowed": False,
        }
    elif role == "member":
        assert r.status_code == 403
        assert "DE123456789" not in r.text
    else:
        assert r.status_code == 200
        assert r.json()["customer_name"] == "Globex" and r.json()["tax_id"] is None


@pytest.mark.parametrize("role", ROLES)
def test_only_owners_change_billing_info(tenant, as_role, role):
    caller = as_role(role)
    r = caller.patch("/api/billing/info", json={"tax_id": "XX-1"})
    assert r.status_code == (200 if role in ("owner", "other") else 403)
    assert tenant.get("/api/billing/info").json()["tax_id"] == ("XX-1" if role == "owner" else None)


def test_fields_left_out_stay_and_null_clears(tenant):
    tenant.patch("/api/billing/info", json=CHANGES)
    info = tenant.patch("/api/billing/info", json={"tax_id": None, "retention_days": 7}).json()
    assert info["tax_id"] is None and info["retention_days"] == 7
    assert info["billing_email"] == CHANGES["billing_email"]
    assert info["address"] == CHANGES["address"]


@pytest.mark.parametrize(
    "body",
    [
        {"billing_email": "not an email"},
        {"retention_days": 0},
        {"retention_days": None},
        {"tax_id": "x" * 65},
        {"plan": "pro"},  # plans are changed by the operators
    ],
)
def test_invalid_billing_info_is_422(tenant, body):
    r = tenant.patch("/api/billing/info", json=body)
    assert r.status_code == 422
    assert tenant.get("/api/billing/info").json()["plan"]["name"] == "free"


def test_an_issued_invoice_keeps_the_billing_details_it_was_made_with(tenant):
    tenant.patch("/api/billing/info", json=CHANGES)
    add_usage(tenant, tenant.create_chatbot(), 10, 10, at=utc(2026, 10, 9))
    invoice = tenant.post("/api/billing/invoices/generate", params={"period": "2026-10"}).json()
    tenant.patch("/api/billing/info", json={"address": "Elsewhere"})
    again = tenant.get(f"/api/billing/invoices/{invoice['id']}").json()
    assert again["billed_to"] == {
        "name": "Acme",
        "email": "accounts@acme.example",
        "address": "1 Main St\nSpringfield",
        "tax_id": "DE123456789",
    }
