"""Deleting an account: every row, file and vector of the customer, except its issued invoices.

The rows go with the customer's: every tenant table's `customer_id` cascades from
`customers.id`, except `invoices.customer_id`, which is set to NULL (migration 0013): tax law
keeps issued invoices for years, and `billed_to` keeps who was billed. Drafts are not invoices
yet and are deleted first. Files and vector collections are removed once the deletion has
committed, as a chatbot's are. Jobs still working for the customer find their document or
website gone (`DocumentRepository.still_exists`, `WebsiteSourceRepository.for_job`) and stop;
its users are gone, so their tokens get 401.
"""

from __future__ import annotations

import uuid
from functools import partial

from sqlalchemy.orm import Session

from app.account.schemas import AccountDeletion
from app.auth.repository import UserRepository
from app.auth.service import LoginThrottle
from app.billing.models import Invoice, InvoiceStatus
from app.billing.repository import InvoiceRepository
from app.chatbots.repository import ChatbotRepository
from app.core.config import Settings
from app.core.database import after_commit
from app.core.errors import Forbidden, Unprocessable
from app.core.security import verify_password
from app.core.storage import remove_customer_files
from app.core.subjects import UserSubject
from app.core.vectors import vector_store_for
from app.customers.repository import CustomerRepository


def delete_account(
    db: Session,
    settings: Settings,
    subject: UserSubject,
    body: AccountDeletion,
    throttle: LoginThrottle,
) -> None:
    _check_password(db, subject, body.password, throttle)
    customer = CustomerRepository(db).of(subject)
    if body.confirm.strip() != customer.name:
        raise Unprocessable(
            f"Type the account's name, {customer.name}, exactly as shown to confirm the deletion"
        )
    chatbot_ids = [chatbot.id for chatbot in ChatbotRepository(db).list(subject)]
    for draft in InvoiceRepository(db).list(subject, Invoice.status == InvoiceStatus.DRAFT):
        db.delete(draft)
    db.delete(customer)
    db.flush()
    after_commit(db, partial(_purge, settings, customer.id, chatbot_ids))


def _check_password(
    db: Session, subject: UserSubject, password: str, throttle: LoginThrottle
) -> None:
    """The owner's password again, counted as a sign-in attempt of the account (and of the
    client's address): a stolen token cannot guess its way to a deletion faster than to a
    sign-in. A wrong one is 403, not 401: the session itself is still good."""
    throttle.attempt(subject.email)
    user = UserRepository(db).get(subject, subject.user_id)
    if not verify_password(password, user.password_hash):
        raise Forbidden("That password is not correct; the account was not deleted")
    throttle.succeeded(subject.email)


def _purge(settings: Settings, customer_id: uuid.UUID, chatbot_ids: list[uuid.UUID]) -> None:
    store = vector_store_for(settings)
    for chatbot_id in chatbot_ids:
        store.delete_collection(chatbot_id)
    remove_customer_files(settings, customer_id)
