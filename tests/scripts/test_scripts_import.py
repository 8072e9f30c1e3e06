"""Every script under scripts/ imports: scripts are not type-checked (mypy reads app/ and
ingestion/), and a benchmark importing a helper another one no longer has would otherwise be
found only when someone next runs it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

SCRIPTS = sorted(p.stem for p in (Path(__file__).parents[2] / "scripts").glob("*.py"))


@pytest.mark.parametrize("name", [s for s in SCRIPTS if s != "__init__"])
def test_the_script_imports(name: str) -> None:
    importlib.import_module(f"scripts.{name}")
