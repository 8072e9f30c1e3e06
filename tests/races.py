"""Making a race happen on purpose: two requests that check and then write, held after their
check until the other has checked too, so both see the state before either writes."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest


def check_together(monkeypatch: pytest.MonkeyPatch, owner: type, check: str) -> None:
    """Holds each call of `owner.check` after it returns until a second call has returned too
    (three seconds at most: on SQLite the one writer may hold the second request back before its
    check, and the first then goes on alone)."""
    both = threading.Barrier(2, timeout=3)
    original = getattr(owner, check)

    def held(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            both.wait()
        return result

    monkeypatch.setattr(owner, check, held)
