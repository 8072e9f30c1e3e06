"""Whether a question may be asked, checked by every door before anything is retrieved: its
length, whether the customer's chatbots are published (a verified owner), a free-plan member's
demo, and the tokens set aside for the LLM call under the plan's cap."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from app.billing import service as billing
from app.billing.models import Plan, UsageReservation
from app.chat.exchange import Asker
from app.chat.repository import ChatMessageRepository
from app.chat.schemas import MAX_QUESTION_CHARS, MAX_QUESTION_TOKENS
from app.core.config import Settings
from app.core.database import session_scope
from app.core.errors import Forbidden, TooManyRequests, Unprocessable
from app.core.subjects import AuthSubject, KeySubject, UserSubject
from app.core.tenancy import act_for
from app.customers import service as customers
from app.customers.repository import CustomerRepository
from app.llm import LLMProvider

# the doors secret keys ask through: before the owner's address is verified, their questions
# together are held to the demo limit
KEY_CHANNELS = ("api", "openai")


class Admission:
    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        count_tokens: Callable[[str], int],
        provider: Callable[[], LLMProvider],
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.count_tokens = count_tokens
        self._provider = provider

    def check_length(self, question: str) -> None:
        """Every door's question has the same ceiling, in characters (checked first: counting
        the tokens of a pasted book is itself slow) and in the embedding model's tokens."""
        if "\x00" in question:
            raise Unprocessable("The question must not contain NUL characters")
        if len(question) > MAX_QUESTION_CHARS:
            raise Unprocessable(
                f"The question is {len(question):,} characters long; the limit is "
                f"{MAX_QUESTION_CHARS:,}. Ask about one thing at a time, or upload the text as "
                "a document."
            )
        tokens = self.count_tokens(question)
        if tokens > MAX_QUESTION_TOKENS:
            raise Unprocessable(
                f"The question is {tokens:,} tokens long; the limit is {MAX_QUESTION_TOKENS:,}. "
                "Ask about one thing at a time, or upload the text as a document."
            )

    def reserve(self, subject: AuthSubject, plan: Plan, tokens: int) -> UsageReservation | None:
        """Set aside the prompt and the longest answer allowed, if this provider is billed and
        the plan has a cap to keep (a plan that allows overage bills whatever is used).

        In a short transaction of its own, committed at once (the reservation session): the
        customer's concurrent questions must see it while this one waits for the LLM, and the
        request's own session only reads until the answer is recorded."""
        if not self._provider().billed or plan.overage_allowed:
            return None
        with session_scope(self.factory) as db:
            act_for(db, subject.customer_id)
            return billing.reserve(db, subject, plan, tokens)

    def check_published(self, db: Session, asker: Asker) -> None:
        """A customer whose owner has not verified their address (`customers.verified`) has
        not published its chatbots: its widget key answers 403 except on the preview page,
        and its secret keys answer DEMO_MESSAGE_LIMIT questions in all, over all its chatbots
        and both doors (public API, chat completions), then 403. Its users in the dashboard
        are not limited by this. Counted from the questions recorded, so concurrent questions
        can pass the limit by the few in flight, as a member's demo can."""
        subject = asker.subject
        if not isinstance(subject, KeySubject) or asker.preview:
            return
        if customers.verified(db, self.settings, subject):
            return
        if subject.kind == "widget":
            raise Forbidden(
                "This chatbot's owner has not verified their email address yet, so its widget "
                "is not published. The owner can verify it from the link in their sign-up email."
            )
        limit = self.settings.demo_message_limit
        if ChatMessageRepository(db).asked_through(subject, KEY_CHANNELS) >= limit:
            raise Forbidden(
                f"This chatbot's owner has not verified their email address yet, and secret "
                f"keys answer {limit} questions until they do; those are used up. The owner "
                "can verify it from the link in their sign-up email."
            )

    def check_demo(self, db: Session, asker: Asker) -> bool:
        """Whether this is a free-plan member's demo question; 429 once the demo is used up.

        Members of free-plan customers try each chatbot with DEMO_MESSAGE_LIMIT questions. The
        count is raised when the exchange is recorded, in its one transaction, so concurrent
        questions of one member can pass the limit by the few that are in flight.
        """
        subject = asker.subject
        if asker.channel != "dashboard" or not isinstance(subject, UserSubject):
            return False
        if subject.is_staff or CustomerRepository(db).of(subject).plan != "free":
            return False
        limit = self.settings.demo_message_limit
        if billing.demo_messages(db, subject, asker.chatbot.id) >= limit:
            raise TooManyRequests(
                f"The free plan's demo allows {limit} messages per user and chatbot, and they "
                "are used up. Ask an owner to upgrade the plan.",
                retry_after=None,
            )
        return True
