from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.auth.deps import CurrentUser, StaffUser
from app.chatbots.deps import UsersChatbot
from app.core.database import DB
from app.core.deps import AppSettings
from app.core.openapi import errors
from app.documents.deps import Jobs, UsersDocument
from app.documents.schemas import DocumentOut, UploadOut
from app.sources import service
from app.sources.deps import Crawls
from app.sources.schemas import ContentEdit, QAIn, TextIn, WebsiteIn, WebsiteOut

router = APIRouter(tags=["sources"])


@router.post(
    "/api/chatbots/{chatbot_id}/sources/url",
    response_model=WebsiteOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(409),
)
def add_website(
    body: WebsiteIn,
    user: StaffUser,
    chatbot: UsersChatbot,
    db: DB,
    settings: AppSettings,
    crawls: Crawls,
) -> WebsiteOut:
    """A website to read: a page (its links on the same site are followed) or a sitemap. The
    crawl runs in the background; its pages become documents of the chatbot."""
    return service.add_website(db, settings, crawls, user, chatbot, body.url)


@router.get("/api/chatbots/{chatbot_id}/sources/url", response_model=list[WebsiteOut])
def list_websites(user: CurrentUser, chatbot: UsersChatbot, db: DB) -> list[WebsiteOut]:
    return service.list_websites(db, user, chatbot)


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
    responses=errors(409, 429),
)
def recrawl(
    source_id: uuid.UUID, user: StaffUser, db: DB, settings: AppSettings, crawls: Crawls
) -> WebsiteOut:
    """Read the site again: changed pages are reindexed, vanished ones removed, unchanged ones
    left as they are."""
    source = service.get_website(db, user, source_id)
    return service.recrawl(db, settings, crawls, user, source)


@router.delete("/api/sources/{source_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_website(source_id: uuid.UUID, user: StaffUser, db: DB, settings: AppSettings) -> None:
    """The website source and its pages' documents and vectors."""
    source = service.get_website(db, user, source_id)
    service.delete_website(db, settings, user, source)


@router.post(
    "/api/chatbots/{chatbot_id}/sources/text",
    response_model=UploadOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(402),
)
def add_text(
    body: TextIn, user: StaffUser, chatbot: UsersChatbot, db: DB, settings: AppSettings, jobs: Jobs
) -> UploadOut:
    """A text snippet, indexed as a document titled `title`."""
    return service.add_text(db, settings, jobs, user, chatbot, body.title, body.text)


@router.post(
    "/api/chatbots/{chatbot_id}/sources/qa",
    response_model=UploadOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(402),
)
def add_qa(
    body: QAIn, user: StaffUser, chatbot: UsersChatbot, db: DB, settings: AppSettings, jobs: Jobs
) -> UploadOut:
    """A question with its answer, indexed as one passage holding both."""
    return service.add_qa(db, settings, jobs, user, chatbot, body.question, body.answer)


@router.patch(
    "/api/documents/{document_id}",
    response_model=DocumentOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(409),
)
def edit_content(
    body: ContentEdit,
    user: StaffUser,
    doc: UsersDocument,
    db: DB,
    settings: AppSettings,
    jobs: Jobs,
):
    """Edit a text source (title, text) or a Q&A pair (question, answer); it is reindexed."""
    return service.edit_content(db, settings, jobs, user, doc, body)
