"""The RAG core, shared by every door (public API, dashboard, widget, OpenAI-compatible), as
short orchestration of the rooms that do the work:

- `prepare` runs inside the request and only reads: admission (`admission.py`: length,
  publication, quota, demo, and the reservation, written in a short transaction of its own),
  history (`history.py`), retrieval (`retriever.py`), the prompt (`prompt.py`); then it ends the
  request's read transaction (`end_reads`), so no connection idles through the LLM call.
- `answer` / `stream` call the LLM, then `recorder.py` writes the exchange in one transaction.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.billing import service as billing
from app.chat.admission import Admission
from app.chat.exchange import Answer, Asker, Prepared
from app.chat.history import turns_of
from app.chat.models import MessageStatus
from app.chat.prompt import (
    Turn,
    build_messages,
    prompt_tokens,
    recent_turns,
    retrieval_query,
)
from app.chat.recorder import ExchangeRecorder
from app.chat.repository import ChatSessionRepository
from app.chat.retriever import Retriever, context_of, retrieve_out
from app.chat.schemas import MAX_QUESTION_CHARS, RetrieveOut
from app.chat.streaming import StreamedAnswers
from app.chatbots.models import Chatbot
from app.chatbots.repository import KEY_TOUCH_INTERVAL
from app.core.config import Settings
from app.core.database import end_reads, utcnow
from app.core.errors import AppError
from app.core.metrics import QUERIES
from app.core.subjects import AuthSubject, KeySubject, UserSubject
from app.core.vectors import embedder_for
from app.llm import Completion, ContextChunk, LLMProvider, LLMRequest, Stop, build_provider
from app.llm.metered import MeteredProvider

# distinct texts whose token counts a process remembers: questions (counted by several steps),
# chatbots' instructions, source labels, chunks retrieved without a recorded count
TOKEN_COUNTS_REMEMBERED = 4096


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


class RagService:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        # the answers being streamed, each by a thread of its own, stopped and waited for at
        # shutdown (app/chat/streaming.py)
        self.streams = StreamedAnswers()
        self.retriever = Retriever(settings)
        # both built on first use: the embedder's tokenizer and the LLM client
        self.admission = Admission(
            settings, factory, lambda text: self.count_tokens(text), lambda: self.provider
        )
        self.recorder = ExchangeRecorder(settings, factory)

    @property
    def embedder(self):  # noqa: ANN201 - the ingestion Embedder protocol
        return embedder_for(self.settings)

    @cached_property
    def count_tokens(self) -> Callable[[str], int]:
        """The embedder's token count, memoized: tokenizing is slow next to a lookup (measured in
        docs/BENCHMARKS.md, "the question path"), and the question path counts the same texts again
        and again. Texts longer than a
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
        self.admission.check_length(question)
        self.admission.check_published(db, asker)
        plan = billing.ensure_quota(db, subject)
        demo = self.admission.check_demo(db, asker)
        if session_id is not None:
            ChatSessionRepository(db).to_continue(subject, chatbot.id, session_id, asker.channel)
            history = turns_of(db, subject, session_id)
        count = self.count_tokens
        turns = recent_turns(history or [], self.settings.history_token_budget, count)
        query = retrieval_query(question, turns, count, self.embedder.max_tokens)
        retrieval = self.retriever.retrieve(db, subject, chatbot, query)
        sources = [] if retrieval.refused else retrieval.sources
        # the request's connection goes back to the pool before the reservation takes one of
        # its own: a question holding two at once, thirty at once exhausted the pool
        end_reads(db)
        request = reservation = None
        if sources:
            request, prompt = self._request(chatbot, context_of(retrieval), turns, question)
            reservation = self.admission.reserve(subject, plan, prompt + request.max_tokens)
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

    def _request(
        self, chatbot: Chatbot, context: list[ContextChunk], turns: list[Turn], question: str
    ) -> tuple[LLMRequest, int]:
        """The LLM call for the question (the chatbot's settings over the server's), and its
        prompt's tokens."""
        options = chatbot.settings or {}
        system = chatbot.system_prompt
        request = LLMRequest(
            messages=build_messages(
                system_prompt=system, context=context, history=turns, question=question
            ),
            model=options.get("llm_model") or self.settings.llm_model,
            temperature=options.get("temperature", self.settings.llm_temperature),
            max_tokens=options.get("max_tokens", self.settings.llm_max_tokens),
            question=question,
            context=context,
        )
        prompt = prompt_tokens(
            system_prompt=system,
            context=context,
            history=turns,
            question=question,
            count_tokens=self.count_tokens,
        )
        return request, prompt

    def playground(
        self,
        db: Session,
        subject: AuthSubject,
        chatbot: Chatbot,
        question: str,
        top_k: int | None = None,
    ) -> RetrieveOut:
        """What retrieval does with a question, and nothing else: no LLM, no record, no bill."""
        self.admission.check_length(question)
        retrieval = self.retriever.retrieve(db, subject, chatbot, question, top_k)
        return retrieve_out(question, retrieval)

    # --- the LLM and the record -----------------------------------------------------------

    def answer(self, prepared: Prepared) -> Answer:
        if prepared.request is None:
            return self.recorder.record(prepared, prepared.not_found, None)
        try:
            completion = self.provider.complete(prepared.request)
        except AppError as exc:
            self.recorder.record_failure(prepared, exc)
            raise
        return self.recorder.record(prepared, completion.text, completion)

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
            yield "done", self._done(self.recorder.record(prepared, prepared.not_found, None))
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
            self.recorder.record_failure(prepared, exc)
            yield "error", {"error": {"code": exc.code, "message": exc.message}}
            return
        except GeneratorExit:
            # closed by its reader midway: the provider stops, and what it produced is kept
            stop.request()
            completion = next(item for item in deltas if isinstance(item, Completion))
            self.recorder.record(prepared, completion.text, completion, MessageStatus.INTERRUPTED)
            raise
        assert completion is not None
        if completion.interrupted:
            self.recorder.record(prepared, completion.text, completion, MessageStatus.INTERRUPTED)
            return
        yield "done", self._done(self.recorder.record(prepared, completion.text, completion))

    @staticmethod
    def _done(answer: Answer) -> dict[str, Any]:
        payload = answer.payload()
        del payload["answer"], payload["sources"], payload["related"]
        return payload
