from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from app.auth.deps import CurrentUser, StaffUser
from app.chatbots.service import get_chatbot
from app.core.database import DB
from app.documents.schemas import DocumentOut, UploadOut
from app.documents.service import get_document
from app.sources import service
from app.sources.schemas import ContentEdit, QAIn, TextIn, WebsiteIn, WebsiteOut

router = APIRouter(tags=["sources"])


@router.post(
    "/api/chatbots/{chatbot_id}/sources/url",
    response_model=WebsiteOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def add_website(
    chatbot_id: uuid.UUID, body: WebsiteIn, request: Request, user: StaffUser, db: DB
) -> WebsiteOut:
    """A website to read: a page (its links on the same site are followed) or a sitemap. The
    crawl runs in the background; its pages become documents of the chatbot."""
    chatbot = get_chatbot(db, user, chatbot_id)
    return service.add_website(
        db, request.app.state.settings, request.app.state.crawls, user, chatbot, body.url
    )


@router.get("/api/chatbots/{chatbot_id}/sources/url", response_model=list[WebsiteOut])
def list_websites(chatbot_id: uuid.UUID, user: CurrentUser, db: DB) -> list[WebsiteOut]:
    return service.list_websites(db, user, get_chatbot(db, user, chatbot_id))


@router.get("/api/sources/{source_id}", response_model=WebsiteOut)
def get_website(source_id: uuid.UUID, user: CurrentUser, db: DB) -> WebsiteOut:
    """The crawl's status and progress: pages found, read, failed and left out, and why."""
    return service.website_out(db, user, service.get_website(db, user, source_id))


@router.get("/api/sources/{source_id}/pages", response_model=list[DocumentOut])
def website_pages(source_id: uuid.UUID, user: CurrentUser, db: DB):
    """The documents made from the website's pages, each with its URL and indexing status."""
    return service.pages(db, user, service.get_website(db, user, source_id))


@router.post(
    "/api/sources/{source_id}/recrawl",
    response_model=WebsiteOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def recrawl(source_id: uuid.UUID, request: Request, user: StaffUser, db: DB) -> WebsiteOut:
    """Read the site again: changed pages are reindexed, vanished ones removed, unchanged ones
    left as they are."""
    source = service.get_website(db, user, source_id)
    state = request.app.state
    return service.recrawl(db, state.settings, state.crawls, user, source)


@router.delete("/api/sources/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_website(source_id: uuid.UUID, request: Request, user: StaffUser, db: DB) -> None:
    """The website source and its pages' documents and vectors."""
    source = service.get_website(db, user, source_id)
    service.delete_website(db, request.app.state.settings, user, source)


@router.post(
    "/api/chatbots/{chatbot_id}/sources/text",
    response_model=UploadOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def add_text(
    chatbot_id: uuid.UUID, body: TextIn, request: Request, user: StaffUser, db: DB
) -> UploadOut:
    """A text snippet, indexed as a document titled `title`."""
    chatbot = get_chatbot(db, user, chatbot_id)
    state = request.app.state
    return service.add_text(db, state.settings, state.jobs, user, chatbot, body.title, body.text)


@router.post(
    "/api/chatbots/{chatbot_id}/sources/qa",
    response_model=UploadOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def add_qa(
    chatbot_id: uuid.UUID, body: QAIn, request: Request, user: StaffUser, db: DB
) -> UploadOut:
    """A question with its answer, indexed as one passage holding both."""
    chatbot = get_chatbot(db, user, chatbot_id)
    state = request.app.state
    return service.add_qa(db, state.settings, state.jobs, user, chatbot, body.question, body.answer)


@router.patch(
    "/api/documents/{document_id}",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
)
def edit_content(
    document_id: uuid.UUID, body: ContentEdit, request: Request, user: StaffUser, db: DB
):
    """Edit a text source (title, text) or a Q&A pair (question, answer); it is reindexed."""
    doc = get_document(db, user, document_id)
    state = request.app.state
    return service.edit_content(db, state.settings, state.jobs, user, doc, body)
