"""The dashboard's typed client is generated from the API (`npm run gen:api`): the committed
`schema.d.ts` must be what the live OpenAPI generates today, or the dashboard type-checks
against an API that no longer exists."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

WEB = ROOT / "app" / "dashboard" / "web"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def generate(tmp_path) -> str:
    """schema.d.ts as `npm run gen:api` makes it from the app's OpenAPI now."""
    if not GENERATOR.exists():
        raise AssertionError(f"{GENERATOR} is missing: scripts/build-dashboard installs it")
    spec = tmp_path / "openapi.json"
    out = tmp_path / "schema.d.ts"
    openapi = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "openapi.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    spec.write_text(openapi)
    subprocess.run(
        [str(GENERATOR), str(spec), "--default-non-nullable", "false", "-o", str(out)],
        check=True,
        capture_output=True,
        cwd=WEB,
    )
    return out.read_text()


def test_the_committed_client_types_match_the_live_api(tmp_path):
    committed = (WEB / "src" / "api" / "schema.d.ts").read_text()
    assert generate(tmp_path) == committed, (
        "app/dashboard/web/src/api/schema.d.ts is stale: run `npm run gen:api` in "
        "app/dashboard/web and commit it"
    )
