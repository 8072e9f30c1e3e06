"""ESLint runs in the dashboard's build (`npm run build`, which scripts/build-dashboard runs):
the rules of hooks and their dependency lists hold over the sources, and a violation fails."""

from __future__ import annotations

import subprocess

from tests.dashboard.test_api_types import WEB

ESLINT = WEB / "node_modules" / ".bin" / "eslint"

CONDITIONAL_HOOK = """import { useState } from "react";
export function Greeting({ shown }: { shown: boolean }) {
  if (shown) {
    const [name] = useState("you");
    return <p>{name}</p>;
  }
  return null;
}
"""

MISSING_DEPENDENCY = """import { useEffect, useState } from "react";
export function Title({ title }: { title: string }) {
  const [, setShown] = useState("");
  useEffect(() => setShown(title), []);
  return null;
}
"""


def lint(source: str | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(ESLINT), "--max-warnings", "0"]
    args += ["--stdin", "--stdin-filename", "src/pages/Made.tsx"] if source else ["."]
    return subprocess.run(args, input=source, capture_output=True, text=True, cwd=WEB)


def test_the_sources_pass_the_lint():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lint_fails_a_conditional_hook_and_a_missing_dependency():
    conditional = lint(CONDITIONAL_HOOK)
    assert conditional.returncode == 1 and "react-hooks/rules-of-hooks" in conditional.stdout
    missing = lint(MISSING_DEPENDENCY)
    assert missing.returncode == 1 and "react-hooks/exhaustive-deps" in missing.stdout
