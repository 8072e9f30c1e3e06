"""Rate limits with the `limits` library: in memory by default, Redis for several processes."""

from __future__ import annotations

import math
import time
from typing import NoReturn

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.core.errors import TooManyRequests


class RateLimiter:
    def __init__(self, storage_uri: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))

    def clear(self, limit: str, *identifiers: str) -> None:
        self._limiter.clear(parse(limit), *identifiers)

    def hit(self, limit: str, *identifiers: str, what: str) -> None:
        """Count one request against `limit` for `identifiers`; 429 with Retry-After past it."""
        item = parse(limit)
        if not self._limiter.hit(item, *identifiers):
            self._refuse(limit, item, identifiers, what)

    def _refuse(
        self, limit: str, item: RateLimitItem, identifiers: tuple[str, ...], what: str
    ) -> NoReturn:
        reset_at = self._limiter.get_window_stats(item, *identifiers).reset_time
        retry_after = max(1, math.ceil(reset_at - time.time()))
        raise TooManyRequests(
            f"Rate limit of {limit} per {what} exceeded; retry in {retry_after} s",
            retry_after=retry_after,
        )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
