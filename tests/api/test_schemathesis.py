"""Schemathesis against `/openapi.json`: generated and mutated requests to every operation, as
a signed-in owner and with a chatbot's secret key, must never get a 5xx.

Bounded (ST_MAX_EXAMPLES per operation, a fixed seed) so it fits in CI; raise the bound for a
deeper run: `ST_MAX_EXAMPLES=200 scripts/test tests/api/test_schemathesis.py`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from tests.conftest import register_tenant, wipe
from tests.live import serve
from tests.servers import BIN, ROOT

MAX_EXAMPLES = os.environ.get("ST_MAX_EXAMPLES", "8")
UNLIMITED = "100000/minute"


@pytest.fixture
def api(make_settings):
    settings = make_settings(
        rate_limit_public=UNLIMITED,
        rate_limit_public_per_ip=UNLIMITED,
        rate_limit_widget_per_ip=UNLIMITED,
        login_failures_per_account=UNLIMITED,
        login_failures_per_ip=UNLIMITED,
    )
    app = create_app(settings)
    try:
        with serve(app) as url:
            yield url
    finally:
        wipe(app.state.engine)


def schemathesis(url: str, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            "20261122",
            "--request-timeout",
            "60",
            "--generation-database",
            "none",  # each run starts fresh: no example files written into the repository
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_no_operation_answers_a_server_error(api, tmp_path):
    with httpx.Client(base_url=api, timeout=60) as http:
        owner = register_tenant(http)  # type: ignore[arg-type]
        bot = owner.create_chatbot()

    # the public doors first, with the chatbot's secret key (the owner's run rotates keys)
    keyed = tmp_path / "key.toml"
    keyed.write_text(
        f'headers = {{ X-API-Key = "{bot["secret_key"]}" }}\n'
        f'[parameters]\n"path.chatbot_id" = "{bot["id"]}"\n'
    )
    run = schemathesis(
        api,
        keyed,
        "--include-path-regex",
        "^/(api/public|v1)/",
        "--generation-with-security-parameters",
        "false",
    )
    assert run.returncode == 0, run.stdout[-6000:]

    signed_in = tmp_path / "owner.toml"
    signed_in.write_text(
        f'headers = {{ Authorization = "Bearer {owner.token}" }}\n'
        f'[parameters]\n"path.chatbot_id" = "{bot["id"]}"\n'
        f'"path.customer_id" = "{owner.customer_id}"\n'
    )
    run = schemathesis(api, signed_in, "--exclude-path-regex", "^/(api/public|v1)/")
    assert run.returncode == 0, run.stdout[-6000:]
    assert "passed" in run.stdout
