"""The dashboard knows every state and role the API has: its maps and switches over them cover
each union of the generated types, so a value the API adds fails the type check (`tsc`, which
`npm run build` runs) until the dashboard says how to show it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.dashboard.test_api_types import WEB

TSC = WEB / "node_modules" / ".bin" / "tsc"

# a union of schema.d.ts, a value made up for it, and the files that must then fail
ADDED = {
    "DocumentStatus": ("archived", ["src/lib/states.ts", "src/pages/Websites.tsx"]),
    "WebsiteStatus": ("paused", ["src/lib/states.ts"]),
    "InvoiceStatus": ("refunded", ["src/pages/Billing.tsx"]),
    "EmailStatus": ("bounced", ["src/pages/Account.tsx"]),
    "MessageRole": ("tool", ["src/pages/Conversations.tsx"]),
    "Role": ("viewer", ["src/lib/roles.ts"]),
    "InvitedRole": ("guest", ["src/lib/roles.ts"]),
}


def typecheck(web: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TSC), "--noEmit", "-p", str(web)], capture_output=True, text=True, cwd=web
    )


def copy_of_the_dashboard(tmp_path: Path) -> Path:
    web = tmp_path / "web"
    shutil.copytree(WEB / "src", web / "src")
    for name in ("tsconfig.json", "vite.config.ts"):
        shutil.copy(WEB / name, web / name)
    (web / "node_modules").symlink_to(WEB / "node_modules")
    return web


def test_the_dashboard_type_checks_as_it_is(tmp_path):
    result = typecheck(copy_of_the_dashboard(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_state_or_role_the_api_adds_fails_the_type_check_where_it_is_shown(tmp_path):
    web = copy_of_the_dashboard(tmp_path)
    schema = web / "src" / "api" / "schema.d.ts"
    text = schema.read_text()
    for union, (value, _) in ADDED.items():
        text, found = re.subn(rf'(\n\s+{union}: "[^;\n]*);', rf'\1 | "{value}";', text)
        assert found == 1, f"{union} is not a union of strings in schema.d.ts"
    schema.write_text(text)
    errors = typecheck(web).stdout.splitlines()
    missed = [
        (path, value)
        for value, paths in ADDED.values()
        for path in paths
        if not any(
            line.startswith(path) and re.search(f"['\"]{value}['\"]", line) for line in errors
        )
    ]
    assert missed == [], "\n".join(errors)
