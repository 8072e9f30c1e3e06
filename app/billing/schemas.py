from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.billing.models import InvoiceStatus
from app.core.schemas import JsonNumber, RequestBody


class UsageSummary(BaseModel):
    period: str
    plan: str
    allowance: int
    overage_allowed: bool
    tokens_used: int
    tokens_remaining: int
    input_tokens: int
    output_tokens: int
    queries: int


class UsageCounts(BaseModel):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    queries: int = Field(description="Answered questions: the usage records")
    llm_calls: int = Field(
        description="Usage records of answers a language model wrote (not the extractive "
        "answerer's, which calls none)"
    )


class UsageDay(UsageCounts):
    date: date


class UsageChatbot(UsageCounts):
    chatbot_id: uuid.UUID | None = Field(description="None: chatbots deleted since")
    chatbot_name: str | None


class UsageReport(BaseModel):
    start: date
    end: date
    totals: UsageCounts
    by_day: list[UsageDay]
    by_chatbot: list[UsageChatbot]


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    monthly_tokens: int
    price_per_1k_input: Decimal
    price_per_1k_output: Decimal
    overage_allowed: bool


class BillingInfoOut(BaseModel):
    customer_name: str
    plan: PlanOut
    billing_email: str | None
    address: str | None
    tax_id: str | None
    retention_days: int = Field(description="Days chat history is kept before it is deleted")


class BillingInfoUpdate(RequestBody):
    """Fields left out stay as they are; null clears a billing field."""

    model_config = ConfigDict(extra="forbid")

    billing_email: EmailStr | None = None
    address: str | None = Field(None, max_length=1000)
    tax_id: str | None = Field(None, max_length=64)
    # may be left out but not cleared: typed int, so null is refused (the default is never
    # read, the service takes the fields sent) and the document does not offer null
    retention_days: Annotated[int, Field(ge=1, le=3650), JsonNumber] = None  # type: ignore[assignment]


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    chatbot_id: uuid.UUID | None
    description: str
    kind: str
    tokens: int
    price_per_1k: Decimal
    amount: Decimal


class InvoiceBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    invoice_number: str
    period: str
    status: InvoiceStatus
    currency: str
    amount: Decimal
    issued_at: datetime | None
    due_date: date | None


class InvoiceOut(InvoiceBrief):
    plan: str
    input_tokens: int
    output_tokens: int
    billed_to: dict[str, Any]
    created_at: datetime
    lines: list[InvoiceLineOut]
