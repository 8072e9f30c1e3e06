"""An invoice as a printable HTML page. Every value is escaped: names and addresses come from
customers."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from string import Template

from app.billing.models import Invoice

# no script may run on the page, whatever got into the data
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Invoice $number</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; color: #111; max-width: 800px; margin: 2em auto; }
  h1 { font-size: 1.6em; margin: 0 0 .2em; }
  .meta, .parties { display: flex; justify-content: space-between; gap: 2em; margin: 1em 0; }
  .parties div { flex: 1; }
  table { width: 100%; border-collapse: collapse; margin-top: 1.5em; }
  th, td { padding: .4em .5em; border-bottom: 1px solid #ddd; text-align: left; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tfoot td { font-weight: bold; border-top: 2px solid #111; border-bottom: none; }
  .status { text-transform: uppercase; letter-spacing: .05em; color: #555; }
  @media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>Invoice $number</h1>
<div class="status">$status</div>
<div class="meta">
  <div>Period: $period<br>Plan: $plan</div>
  <div>Issued: $issued<br>Due: $due</div>
</div>
<div class="parties">
  <div><strong>From</strong><br>$issuer</div>
  <div><strong>Billed to</strong><br>$billed_to</div>
</div>
<table>
<thead><tr><th>Description</th><th class="num">Tokens</th>
<th class="num">Price per 1,000 ($currency)</th><th class="num">Amount ($currency)</th></tr></thead>
<tbody>
$lines
</tbody>
<tfoot><tr><td colspan="3">Total</td><td class="num">$amount</td></tr></tfoot>
</table>
</body>
</html>
""")

LINE = Template(
    '<tr><td>$description</td><td class="num">$tokens</td>'
    '<td class="num">$price</td><td class="num">$amount</td></tr>'
)


def _text(value: object) -> str:
    """Escaped, with line breaks kept (addresses span lines)."""
    return escape(str(value)).replace("\n", "<br>")


def _price(value: Decimal) -> str:
    """Prices carry six decimals: show as many as they need, and at least two."""
    whole, _, decimals = f"{value:.6f}".partition(".")
    return f"{whole}.{decimals.rstrip('0').ljust(2, '0')}"


def render_invoice(invoice: Invoice, issuer: str) -> str:
    billed = invoice.billed_to or {}
    party = [billed.get(k) for k in ("name", "address", "email")]
    if billed.get("tax_id"):
        party.append(f"Tax id: {billed['tax_id']}")
    lines = "\n".join(
        LINE.substitute(
            description=_text(line.description),
            tokens=f"{line.tokens:,}",
            price=_text(_price(line.price_per_1k)),
            amount=_text(f"{line.amount:.2f}"),
        )
        for line in invoice.lines
    )
    return PAGE.substitute(
        number=_text(invoice.invoice_number),
        status=_text(invoice.status),
        period=_text(invoice.period),
        plan=_text(invoice.plan),
        issued=_text(invoice.issued_at.date() if invoice.issued_at else "not yet (draft)"),
        due=_text(invoice.due_date or "-"),
        issuer=_text(issuer),
        billed_to="<br>".join(_text(p) for p in party if p),
        currency=_text(invoice.currency),
        lines=lines,
        amount=_text(f"{invoice.amount:.2f}"),
    )
