"""Logging for the whole process, configured in one place (`configure_logging`).

Every line carries the id of the HTTP request it was written for (`-` outside a request): the id
lives in a context variable that `app.core.middleware` sets per request, so lines written from
the request's worker threads carry it too. `LOG_FORMAT=json` writes one JSON object per line for
log shippers; `text` (the default) is for people. uvicorn's loggers go through the same handler;
its access log gives way to ours, which names the route template and the duration.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from app.core.config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# What a proxy or client may send as its own id: short, printable, nothing to inject into a log.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_HANDLER_NAME = "app"
# Attributes of every LogRecord; anything else on a record came from `extra=` and goes into JSON.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(incoming: str | None) -> str:
    """Adopt the caller's `X-Request-ID` when it is sane, else a new id; it names this request's
    log lines from here on."""
    request_id = incoming if incoming and _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    _request_id.set(request_id)
    return request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


def configure_logging(settings: Settings) -> None:
    """Root handler on stderr with the request id, in `settings.log_format`, at `log_level`.

    Safe to call again (tests build many apps): it replaces only the handler it added before.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.captureWarnings(True)  # a library's warning is a log line too, not raw stderr text
    # uvicorn configured its own handlers before it called our app factory; route its lines
    # through ours so that they have the same format and the request id.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
