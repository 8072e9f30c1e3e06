"""Jinja2 templates kept as files beside the domain that renders them (`<domain>/templates/`).

HTML templates are autoescaped, so a value customers wrote (a name, an address, a chatbot's
title) never becomes markup; markup built in Python must say so (`markupsafe.Markup`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


@cache
def environment(folder: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a missing value is a bug, not an empty field
        keep_trailing_newline=True,
    )
