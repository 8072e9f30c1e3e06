"""The FastAPI application: `create_app(settings)` wires settings, database, routers and errors."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from fastapi.middleware.cors import CORSMiddleware

from app.account.router import router as account_router
from app.analytics.router import router as analytics_router
from app.auth.router import router as auth_router
from app.billing.router import billing_router
from app.billing.router import router as usage_router
from app.chat import near_miss
from app.chat.openai_compat import router as openai_router
from app.chat.router import router as chat_router
from app.chat.service import RagService
from app.chatbots.router import router as chatbots_router
from app.core.body_limit import BodyLimitMiddleware
from app.core.concurrency import CustomerSlots
from app.core.config import (
    Settings,
    get_settings,
    warn_development_secret_key,
    warn_unset_public_base_url,
)
from app.core.database import make_engine, make_probe_engine, make_sessionmaker
from app.core.errors import install_error_handlers
from app.core.logging import configure_logging
from app.core.methods import MethodNotAllowedMiddleware
from app.core.metrics import metrics_response, observe_embedding_engine
from app.core.middleware import RequestContextMiddleware
from app.core.openapi import install_openapi
from app.core.ratelimit import RateLimiter
from app.customers.router import emails_router, signup_router
from app.customers.router import router as users_router
from app.dashboard.router import router as dashboard_router
from app.documents.jobs import build_runner, observe_queue_depth
from app.documents.router import router as documents_router
from app.health import router as health_router
from app.mail.outbox import Outbox
from app.sources.jobs import build_crawl_runner
from app.sources.router import router as sources_router
from app.widget.cors import ChatbotCORSMiddleware
from app.widget.router import router as widget_router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    warn_development_secret_key(settings)
    warn_unset_public_base_url(settings)
    observe_embedding_engine()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.jobs.start()
        app.state.crawls.start()
        app.state.outbox.start()
        # the word lists of near-miss refusal load in a few seconds, beside the first requests
        threading.Thread(target=near_miss.warm_up, name="near-miss-words", daemon=True).start()
        yield
        # answers still streaming (the server's grace period is over) are stopped and recorded
        app.state.rag.streams.close(timeout=10)
        app.state.crawls.stop()
        app.state.jobs.stop()
        app.state.outbox.stop()
        engine.dispose()
        app.state.probe_engine.dispose()

    app = FastAPI(
        title=settings.project_name,
        version="0.1.0",
        lifespan=lifespan,
        description="Multi-tenant retrieval-augmented chatbots. "
        "Log in with the Authorize button (username = email).",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.probe_engine = make_probe_engine(settings.database_url)
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.jobs = build_runner(app.state.sessionmaker, settings)
    app.state.crawls = build_crawl_runner(app.state.sessionmaker, settings, app.state.jobs)
    app.state.slots = CustomerSlots(settings.customer_concurrency)
    app.state.rag = RagService(settings, app.state.sessionmaker)
    app.state.limiter = RateLimiter(settings.rate_limit_storage_uri)
    app.state.outbox = Outbox(app.state.sessionmaker, settings)

    # innermost: the CORS middlewares answer preflight OPTIONS before it refuses a method
    app.add_middleware(MethodNotAllowedMiddleware, router=app.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    # added after the dashboard's CORS so it runs first: per-chatbot CORS for the public query
    app.add_middleware(ChatbotCORSMiddleware, sessionmaker=app.state.sessionmaker)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_kb * 1024,
        max_upload_bytes=settings.max_upload_bytes,
    )
    # outermost: the request id and the timing cover everything inside
    app.add_middleware(RequestContextMiddleware, settings=settings)
    install_error_handlers(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        observe_queue_depth(app.state.sessionmaker)
        return metrics_response()

    for router in (
        health_router,
        signup_router,
        auth_router,
        users_router,
        emails_router,
        chatbots_router,
        documents_router,
        sources_router,
        chat_router,  # before any route whose path starts with /api/{customer_id}
        openai_router,
        usage_router,
        billing_router,
        analytics_router,
        account_router,
        widget_router,
        dashboard_router,
    ):
        app.include_router(router)
    install_openapi(app)
    return app
