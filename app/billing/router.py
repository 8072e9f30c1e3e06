"""Usage (every member), billing details (staff read, owners write) and invoices (owners)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from app.auth.deps import CurrentUser, OwnerUser, StaffUser
from app.billing import invoices, service
from app.billing.invoice_page import CONTENT_SECURITY_POLICY, render_invoice
from app.billing.schemas import (
    BillingInfoOut,
    BillingInfoUpdate,
    InvoiceBrief,
    InvoiceOut,
    UsageReport,
    UsageSummary,
)
from app.core.database import DB, utcnow
from app.core.deps import AppSettings
from app.core.errors import Unprocessable
from app.core.openapi import errors
from app.core.schemas import IsoDate

router = APIRouter(prefix="/api/usage", tags=["usage"])
billing_router = APIRouter(prefix="/api/billing", tags=["billing"])

PERIOD = Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])
INVOICE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "JSON, or a printable HTML page"}
}


@router.get("", response_model=UsageReport, responses=errors(404))
def usage(
    user: CurrentUser,
    db: DB,
    start: Annotated[
        IsoDate | None, Query(description="First day (UTC); default: the 1st of end's month")
    ] = None,
    end: Annotated[
        IsoDate | None, Query(description="Last day (UTC), included; default: today")
    ] = None,
    chatbot_id: Annotated[
        uuid.UUID | None, Query(description="Only this chatbot's usage (404 if not yours)")
    ] = None,
):
    """Tokens in and out, answered questions and LLM calls, per day and per chatbot, summed
    from the usage records."""
    end = end or utcnow().date()
    return service.usage_report(db, user, start or end.replace(day=1), end, chatbot_id)


@router.get("/summary", response_model=UsageSummary)
def usage_summary(user: CurrentUser, db: DB):
    """Tokens used and remaining in the customer's current monthly period."""
    return service.summary(db, user)


@billing_router.get("/info", response_model=BillingInfoOut)
def get_billing_info(user: StaffUser, db: DB):
    """The plan, billing contact and retention; owners and admins."""
    return service.billing_details(db, user)


@billing_router.patch("/info", response_model=BillingInfoOut)
def update_billing_info(body: BillingInfoUpdate, user: OwnerUser, db: DB):
    """Change the billing contact or the days chat history is kept; owners only. The plan is
    changed by the operators."""
    return service.update_billing_details(db, user, body.model_dump(exclude_unset=True))


@billing_router.post(
    "/invoices/generate",
    response_model=InvoiceOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": InvoiceOut, "description": "The invoice existed already"}},
)
def generate_invoice(
    user: OwnerUser, db: DB, response: Response, period: Annotated[str, PERIOD]
) -> InvoiceOut:
    """Make the invoice of a month from its usage records (201), or return the one that exists
    (200; a draft of a running month is recomputed, and issued once the month is over)."""
    generated = invoices.generate_invoice(db, user, period)
    if generated.invoice is None:
        raise Unprocessable(f"There is no usage in {period}, so there is nothing to invoice")
    if generated.outcome != invoices.Outcome.CREATED:
        response.status_code = status.HTTP_200_OK
    return InvoiceOut.model_validate(generated.invoice)


@billing_router.get("/invoices", response_model=list[InvoiceBrief])
def list_invoices(user: OwnerUser, db: DB):
    return invoices.list_invoices(db, user)


@billing_router.get(
    "/invoices/{invoice_id}", response_model=InvoiceOut, responses=INVOICE_RESPONSES
)
def get_invoice(
    invoice_id: uuid.UUID,
    request: Request,
    user: OwnerUser,
    db: DB,
    settings: AppSettings,
    as_: Annotated[
        Literal["json", "html"] | None,
        Query(alias="format", description="html: a printable page (as is Accept: text/html)"),
    ] = None,
):
    invoice = invoices.get_invoice(db, user, invoice_id)
    if as_ == "html" or (as_ is None and "text/html" in request.headers.get("accept", "")):
        page = render_invoice(invoice, issuer=settings.project_name)
        return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})
    return InvoiceOut.model_validate(invoice)
