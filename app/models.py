"""Every table, imported in one place so that Alembic and the app see the same metadata."""

from app.auth.models import AccountToken, User
from app.billing.models import (
    AllowanceAlert,
    DemoUsage,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Plan,
    UsageRecord,
    UsageTotal,
)
from app.chat.models import ChatMessage, ChatSession, Feedback
from app.chatbots.models import ApiKey, Chatbot
from app.core.database import Base
from app.customers.models import Customer, Invitation
from app.documents.models import Document, DocumentChunk
from app.mail.models import OutboxEmail
from app.sources.models import WebsiteSource

__all__ = [
    "AccountToken",
    "AllowanceAlert",
    "Invitation",
    "OutboxEmail",
    "ApiKey",
    "Base",
    "ChatMessage",
    "ChatSession",
    "Chatbot",
    "Customer",
    "DemoUsage",
    "Document",
    "DocumentChunk",
    "Feedback",
    "Invoice",
    "InvoiceCounter",
    "InvoiceLine",
    "Plan",
    "UsageRecord",
    "UsageTotal",
    "User",
    "WebsiteSource",
]
