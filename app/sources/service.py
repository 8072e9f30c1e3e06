"""Sources beyond files: website sources, text snippets and question/answer pairs.

Every one of them ends up as ordinary documents of the chatbot (`app.documents`), indexed,
listed, deleted and reindexed like uploads: a text is a document of kind `txt`, a Q&A pair one
of kind `qa` (always a single chunk), and each page of a website a document of kind `md` made of
its main content, with the page's URL and title as its citation.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from functools import partial

from sqlalchemy.orm import Session

from app.chatbots.models import Chatbot
from app.core.config import Settings
from app.core.database import after_commit, utcnow
from app.core.errors import Conflict, TooManyRequests, Unprocessable
from app.core.subjects import AuthSubject
from app.core.vectors import embedder_for
from app.core.workers import JobQueue
from app.documents import service as documents
from app.documents import storage
from app.documents.models import Document
from app.documents.schemas import DocumentOut, UploadOut
from app.sources.models import WebsiteSource, WebsiteStatus
from app.sources.repository import UNFINISHED, WebsiteSourceRepository
from app.sources.schemas import ContentEdit, WebsiteOut
from ingestion.loaders import qa_document, qa_text, read_qa
from ingestion.web import FetchFailed, UnsafeURL, check_url


def add_website(
    db: Session,
    settings: Settings,
    crawls: JobQueue,
    subject: AuthSubject,
    chatbot: Chatbot,
    url: str,
) -> WebsiteOut:
    try:
        url = check_url(url, allow_private=settings.allow_private_urls)
    except (UnsafeURL, FetchFailed) as exc:
        raise Unprocessable(str(exc)) from exc
    repository = WebsiteSourceRepository(db)
    if repository.with_url(subject, chatbot.id, url) is not None:
        raise Conflict(f"{url} is already a source of this chatbot; recrawl it instead")
    source = WebsiteSource(customer_id=chatbot.customer_id, chatbot_id=chatbot.id, url=url)
    source.status, source.issues = WebsiteStatus.QUEUED, []
    db.add(source)
    db.flush()
    after_commit(db, partial(crawls.enqueue, source.id, source.customer_id))
    return _out(db, subject, [source])[0]


def list_websites(db: Session, subject: AuthSubject, chatbot: Chatbot) -> list[WebsiteOut]:
    return _out(db, subject, WebsiteSourceRepository(db).of_chatbot(subject, chatbot.id))


def get_website(db: Session, subject: AuthSubject, source_id: uuid.UUID) -> WebsiteSource:
    return WebsiteSourceRepository(db).get(subject, source_id)


def website_out(db: Session, subject: AuthSubject, source: WebsiteSource) -> WebsiteOut:
    return _out(db, subject, [source])[0]


def _out(db: Session, subject: AuthSubject, sources: Sequence[WebsiteSource]) -> list[WebsiteOut]:
    indexed = WebsiteSourceRepository(db).indexed_pages(subject, [s.id for s in sources])
    return [
        WebsiteOut.model_validate(source).model_copy(
            update={"pages_indexed": indexed.get(source.id, 0)}
        )
        for source in sources
    ]


def pages(db: Session, subject: AuthSubject, source: WebsiteSource) -> Sequence[Document]:
    return WebsiteSourceRepository(db).pages(subject, source.id)


def recrawl(
    db: Session,
    settings: Settings,
    crawls: JobQueue,
    subject: AuthSubject,
    source: WebsiteSource,
) -> WebsiteOut:
    if source.status in UNFINISHED:
        raise Conflict("The website is being crawled already")
    if source.last_crawled_at is not None:
        wait = settings.recrawl_min_seconds - (utcnow() - source.last_crawled_at).total_seconds()
        if wait > 0:
            raise TooManyRequests(
                f"The website was crawled moments ago; recrawl it in {math.ceil(wait)} s",
                retry_after=math.ceil(wait),
            )
    source.status, source.error = WebsiteStatus.QUEUED, None
    db.flush()
    after_commit(db, partial(crawls.enqueue, source.id, source.customer_id))
    return website_out(db, subject, source)


def delete_website(
    db: Session, settings: Settings, subject: AuthSubject, source: WebsiteSource
) -> None:
    """The source and every page document of it, with their files and vectors."""
    for doc in WebsiteSourceRepository(db).pages(subject, source.id):
        documents.delete_document(db, settings, doc)
    db.delete(source)
    db.flush()


def add_text(
    db: Session,
    settings: Settings,
    jobs: JobQueue,
    subject: AuthSubject,
    chatbot: Chatbot,
    title: str,
    text: str,
) -> UploadOut:
    added = documents.add_content(
        db,
        settings,
        jobs,
        subject,
        chatbot.id,
        documents.MadeContent(_title(title), "txt", _text(text).encode(), origin="text"),
    )
    return _upload_out(added)


def add_qa(
    db: Session,
    settings: Settings,
    jobs: JobQueue,
    subject: AuthSubject,
    chatbot: Chatbot,
    question: str,
    answer: str,
) -> UploadOut:
    question, answer = _text(question), _text(answer)
    _check_one_chunk(settings, question, answer)
    added = documents.add_content(
        db,
        settings,
        jobs,
        subject,
        chatbot.id,
        documents.MadeContent(_title(question), "qa", qa_document(question, answer), origin="qa"),
    )
    return _upload_out(added)


def edit_content(
    db: Session,
    settings: Settings,
    jobs: JobQueue,
    subject: AuthSubject,
    doc: Document,
    edit: ContentEdit,
) -> Document:
    """New title or text of a text source, new question or answer of a Q&A pair; reindexed."""
    given = edit.model_dump(exclude_none=True)
    allowed = {"text": {"title", "text"}, "qa": {"question", "answer"}}.get(doc.origin)
    if allowed is None:
        raise Conflict(
            "Only text and Q&A sources can be edited; upload a new version of a file, or "
            "recrawl a website"
        )
    if not given or set(given) - allowed:
        raise Unprocessable(f"Send {' and/or '.join(sorted(allowed))} to edit this {doc.origin}")
    current = storage.document_path(settings, doc).read_bytes()
    if doc.origin == "text":
        title = _title(edit.title or doc.filename)
        data = _text(edit.text).encode() if edit.text else current
        return documents.replace_content(
            db, settings, jobs, subject, doc, filename=title, data=data
        )
    question, answer = read_qa(current)
    question, answer = _text(edit.question or question), _text(edit.answer or answer)
    _check_one_chunk(settings, question, answer)
    return documents.replace_content(
        db,
        settings,
        jobs,
        subject,
        doc,
        filename=_title(question),
        data=qa_document(question, answer),
    )


def _title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise Unprocessable("The title must not be blank")
    return title[:255]


def _text(text: str) -> str:
    if not text.strip():
        raise Unprocessable("The text must not be blank")
    if "\x00" in text:
        raise Unprocessable("The text must not contain NUL characters")
    return text.strip()


def _check_one_chunk(settings: Settings, question: str, answer: str) -> None:
    """A pair is found and quoted whole, so it must fit the embedding model's window."""
    embedder = embedder_for(settings)
    tokens = embedder.count_tokens(qa_text(question, answer))
    if tokens > embedder.max_tokens:
        raise Unprocessable(
            f"The question and answer are {tokens:,} tokens together; a pair is kept as one "
            f"passage of at most {embedder.max_tokens:,}. Shorten the answer, or add it as a text."
        )


def _upload_out(added: documents.Accepted) -> UploadOut:
    return UploadOut(
        **DocumentOut.model_validate(added.document).model_dump(), duplicate=added.duplicate
    )
