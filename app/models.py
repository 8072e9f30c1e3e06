"""Every table, imported in one place so that Alembic and the app see the same metadata."""

from app.chatbots.models import ApiKey, Chatbot
from app.core.database import Base
from app.customers.models import Customer, User

__all__ = ["ApiKey", "Base", "Chatbot", "Customer", "User"]
