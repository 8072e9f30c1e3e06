"""Crawling website sources in the background; each page read becomes an ordinary document.

A crawl (`crawl_source`) walks the site with `ingestion.web.Crawler` and, page by page, adds
the page's main content as a document of the chatbot, gives a changed page its new content, and
leaves a page whose content hash is unchanged alone. The documents go through the same ingestion
queue as uploads (`app.documents.jobs`), so indexing, status, progress, delete and reindex work as
they do for files. Pages that vanished from the site (gone, or no longer linked) are deleted at the
end; a page that failed in a way that may pass (a timeout, a 5xx) keeps what was indexed.

A crawl is a job of the runners of `app.core.workers`, as a document's ingestion is: threads of the
API process, or Celery tasks on the queue of the same workers (`app.worker`).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.billing.plans import plan_of
from app.core.config import Settings
from app.core.database import session_scope, utcnow
from app.core.errors import Conflict, PaymentRequired
from app.core.subjects import OperatorSubject
from app.core.workers import JobQueue, Pending, Runner, Work, runner_for
from app.documents import service as documents
from app.sources.models import MAX_ISSUES, WebsiteSource, WebsiteStatus
from app.sources.repository import WebsiteSourceRepository
from ingestion.errors import InvalidDocument
from ingestion.web import Crawler, Page, WebLimits

log = logging.getLogger(__name__)
# the reason of the row-level security bypass its sessions take (app/core/tenancy.py)
JOB = "website crawl: a job acts for the customer of the source it was given"

CRAWL_TASK = "ingestion.crawl_website"
# A crawl stops before its next page. A fetch in flight may take its full timeouts; past this the
# process exits without it, and the source, still `crawling`, resumes at the next start.
STOP_TIMEOUT_SECONDS = 2


@dataclass
class _Tally:
    """What a crawl has done so far, written to the source after every page."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)
    read: set[str] = field(default_factory=set)  # pages whose documents stay
    stop_reason: str | None = None

    def issue(self, page: Page, reason: str | None = None) -> None:
        if len(self.issues) < MAX_ISSUES:
            self.issues.append(
                {"url": page.url, "reason": reason or page.reason or "", "status": page.status}
            )


def _limits(db: Session, settings: Settings, source: WebsiteSource) -> WebLimits:
    plan = plan_of(db, OperatorSubject(source.customer_id))
    return WebLimits(
        max_pages=plan.max_crawl_pages,
        max_depth=plan.max_crawl_depth,
        max_page_bytes=plan.max_page_kb * 1024,
        allow_private=settings.allow_private_urls,
        crawl_seconds=settings.crawl_max_seconds,
    )


def _fields(source_id: uuid.UUID, **more: object) -> dict[str, object]:
    return {"source_id": str(source_id), **more}


def crawl_source(
    factory: sessionmaker[Session],
    settings: Settings,
    jobs: JobQueue,
    source_id: uuid.UUID,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """Crawl one website source; returns `ready`, `failed` (reason on the source), `deleted` or
    `interrupted` (should_stop() said so; the source is `queued` again)."""
    with session_scope(factory, bypass=JOB) as db:
        source = WebsiteSourceRepository(db).for_job(source_id)
        if source is None:
            return "deleted"
        owner = OperatorSubject(source.customer_id)
        limits = _limits(db, settings, source)
        source.status, source.error, source.issues = WebsiteStatus.CRAWLING, None, []
        source.pages_found = 1
        source.pages_done = source.pages_failed = source.pages_skipped = 0
        source.attempts += 1
        start_url = source.url
        tally = _Tally()
    log.info("website %s: crawl started (%s)", source_id, start_url, extra=_fields(source_id))
    crawler = Crawler(start_url, limits)
    try:
        with contextlib.closing(crawler.pages(should_stop)) as pages:
            for page in pages:
                with session_scope(factory, bypass=JOB) as db:
                    source = WebsiteSourceRepository(db).for_job(source_id)
                    if source is None:
                        return "deleted"
                    _record(db, settings, jobs, owner, source, page, tally)
                    source.pages_found = max(
                        crawler.found, tally.done + tally.failed + tally.skipped
                    )
                    source.pages_done, source.pages_failed = tally.done, tally.failed
                    source.pages_skipped, source.issues = tally.skipped, list(tally.issues)
                if tally.stop_reason:
                    break
        tally.stop_reason = tally.stop_reason or crawler.stop_reason
        if should_stop is not None and should_stop():
            _update(factory, source_id, status=WebsiteStatus.QUEUED)
            log.info("website %s: crawl interrupted by shutdown", source_id)
            return "interrupted"
    except InvalidDocument as exc:
        return _fail(factory, source_id, str(exc))
    except Exception:
        log.exception("website %s: crawl failed with an internal error", source_id)
        return _fail(factory, source_id, "An internal error stopped the crawl; recrawl to retry")
    return _finish(factory, settings, owner, source_id, tally)


def _record(
    db: Session,
    settings: Settings,
    jobs: JobQueue,
    owner: OperatorSubject,
    source: WebsiteSource,
    page: Page,
    tally: _Tally,
) -> None:
    if page.outcome != "ok":
        if page.outcome == "failed":
            tally.failed += 1
            if page.transient:  # the site may be back next time: keep what it had
                tally.read.add(page.url)
        else:
            tally.skipped += 1
        tally.issue(page)
        return
    data = page.text.encode()
    existing = WebsiteSourceRepository(db).page(owner, source.id, page.url)
    try:
        if existing is not None:
            documents.replace_content(
                db, settings, jobs, owner, existing, filename=page.title, data=data
            )
        else:
            added = documents.add_content(
                db,
                settings,
                jobs,
                owner,
                source.chatbot_id,
                documents.MadeContent(
                    page.title, "md", data, origin="web", url=page.url, website_id=source.id
                ),
            )
            if added.duplicate:
                same = added.document.url or added.document.filename
                raise Conflict(f"the same content as {same}")
    except Conflict as exc:
        tally.skipped += 1
        tally.issue(page, exc.message)
        return
    except PaymentRequired as exc:
        tally.failed += 1
        tally.issue(page, exc.message)
        tally.stop_reason = exc.message
        return
    tally.done += 1
    tally.read.add(page.url)


def _finish(
    factory: sessionmaker[Session],
    settings: Settings,
    owner: OperatorSubject,
    source_id: uuid.UUID,
    tally: _Tally,
) -> str:
    with session_scope(factory, bypass=JOB) as db:
        source = WebsiteSourceRepository(db).for_job(source_id)
        if source is None:
            return "deleted"
        # a crawl cut short by the plan's cap has not seen every page: none is known to be gone
        vanished = [
            doc
            for doc in WebsiteSourceRepository(db).pages(owner, source_id)
            if doc.url not in tally.read and not tally.stop_reason
        ]
        for doc in vanished:
            documents.delete_document(db, settings, doc)
        source.last_crawled_at = utcnow()
        # no page read is a failed crawl, even when pages that failed only for now keep what
        # they had (a first crawl whose one page timed out once showed `ready`, no error)
        if tally.done == 0:
            first = tally.issues[0]["reason"] if tally.issues else "the site has no pages"
            source.status = WebsiteStatus.FAILED
            source.error = f"No page could be read: {first}"
        else:
            source.status, source.error = WebsiteStatus.READY, tally.stop_reason
    log.info(
        "website %s: crawl finished, %d pages read, %d failed, %d skipped, %d removed",
        source_id,
        tally.done,
        tally.failed,
        tally.skipped,
        len(vanished),
        extra=_fields(source_id, pages=tally.done, failed=tally.failed),
    )
    return "ready" if tally.done else "failed"


def _fail(factory: sessionmaker[Session], source_id: uuid.UUID, reason: str) -> str:
    _update(factory, source_id, status=WebsiteStatus.FAILED, error=reason, last_crawled_at=utcnow())
    log.warning("website %s: crawl failed: %s", source_id, reason, extra=_fields(source_id))
    return "failed"


def _update(factory: sessionmaker[Session], source_id: uuid.UUID, **values: object) -> None:
    with session_scope(factory, bypass=JOB) as db:
        source = WebsiteSourceRepository(db).for_job(source_id)
        if source is not None:
            for name, value in values.items():
                setattr(source, name, value)


def _resumed(factory: sessionmaker[Session]) -> Pending:
    with session_scope(factory, bypass=JOB) as db:
        unfinished = WebsiteSourceRepository(db).unfinished()
    for source_id, _ in unfinished:
        log.info("website %s: crawl resumed", source_id, extra=_fields(source_id))
    return unfinished


def crawls(factory: sessionmaker[Session], settings: Settings, jobs: JobQueue) -> Work:
    """A website's crawl as a job of the runners, each page's document queued on `jobs`. A few
    threads: a crawl waits on the network, not on the cores, and one customer's site of
    thousands of pages must not keep every other crawl waiting."""
    return Work(
        name="crawl",
        task=CRAWL_TASK,
        run=partial(crawl_source, factory, settings, jobs),
        pending=partial(_resumed, factory),
        threads=3,
        stop_timeout=STOP_TIMEOUT_SECONDS,
    )


def build_crawl_runner(
    factory: sessionmaker[Session], settings: Settings, jobs: JobQueue
) -> Runner:
    return runner_for(crawls(factory, settings, jobs), settings.celery_broker_url)
