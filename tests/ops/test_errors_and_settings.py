"""The request id in answers the middleware does not see (unexpected errors), and the settings
that shape logs and the public address."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from app.core.config import Settings, warn_unset_public_base_url
from app.main import create_app
from tests.conftest import wipe
from tests.live import serve


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The app's handler writes to this test's captured stderr; take it away afterwards."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == "app"]:
        root.removeHandler(handler)


def test_unexpected_error_is_logged_and_answered_with_the_request_id(
    make_settings, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    app = create_app(make_settings(log_format="json"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    try:
        with serve(app) as url:
            r = httpx.get(url + "/boom", headers={"X-Request-ID": "boom-1"})
    finally:
        wipe(app.state.engine)

    assert r.status_code == 500
    assert r.headers["x-request-id"] == "boom-1"
    assert r.json() == {
        "error": {
            "code": "internal_error",
            "message": "Internal server error",
            "request_id": "boom-1",
        }
    }
    assert "secret internals" not in r.text
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    [error] = [e for e in lines if e["level"] == "ERROR" and e["logger"] == "app.core.errors"]
    assert (
        error["request_id"] == "boom-1" and "RuntimeError: secret internals" in error["exception"]
    )
    [access] = [e for e in lines if e["logger"] == "app.access"]
    assert access["request_id"] == "boom-1" and access["status"] == 500
    assert access["route"] == "/boom"


def test_production_without_public_base_url_warns_at_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(env="production", secret_key="s" * 64)

    with caplog.at_level(logging.WARNING, logger="app.core.config"):
        warn_unset_public_base_url(settings)
        warn_unset_public_base_url(settings.model_copy(update={"public_base_url": "https://x.io"}))

    [warning] = caplog.records
    assert "PUBLIC_BASE_URL is not set" in warning.getMessage()


def test_log_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "debug")

    settings = Settings(secret_key="s" * 64)

    assert (settings.log_format, settings.log_level) == ("json", "DEBUG")
    assert settings.public_base_url == ""  # derived from the server's address at the first request
