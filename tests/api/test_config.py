from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import Settings


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(env="production", _env_file=None)


def test_development_generates_and_keeps_a_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr("app.core.config.DEV_SECRET_FILE", tmp_path / "key")
    first = Settings(env="development", _env_file=None).secret_key
    second = Settings(env="development", _env_file=None).secret_key
    assert first == second and len(first) >= 48
    assert (tmp_path / "key").stat().st_mode & 0o077 == 0


def test_llm_provider_defaults_to_extractive_without_keys(monkeypatch):
    for var in ("FIREWORKS_API_KEY", "OPENAI_API_KEY", "LLM_PROVIDER"):
        monkeypatch.delenv(var, raising=False)
    assert Settings(secret_key="k", _env_file=None).resolved_llm_provider == "extractive"
    assert (
        Settings(secret_key="k", fireworks_api_key="fw", _env_file=None).resolved_llm_provider
        == "fireworks"
    )
