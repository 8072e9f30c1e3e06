"""The sources domain's long-lived part, declared in route signatures: the crawl queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import from_state
from app.core.workers import JobQueue

Crawls = Annotated[JobQueue, Depends(from_state("crawls"))]
