"""An invoice as a printable HTML page (`templates/invoice.html`), autoescaped: names and
addresses come from customers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from app.billing.models import Invoice
from app.core.templates import environment

# no script may run on the page, whatever got into the data
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

TEMPLATES = Path(__file__).parent / "templates"


def _price(value: Decimal) -> str:
    """Prices carry six decimals: show as many as they need, and at least two."""
    whole, _, decimals = f"{value:.6f}".partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


def render_invoice(invoice: Invoice, issuer: str) -> str:
    billed = invoice.billed_to or {}
    party = [billed.get(k) for k in ("name", "address", "email")]
    if billed.get("tax_id"):
        party.append(f"Tax id: {billed['tax_id']}")
    return (
        environment(TEMPLATES)
        .get_template("invoice.html")
        .render(
            invoice=invoice,
            issuer=issuer,
            issued=invoice.issued_at.date() if invoice.issued_at else "not yet (draft)",
            billed_to=[part for part in party if part],
            price=_price,
        )
    )
