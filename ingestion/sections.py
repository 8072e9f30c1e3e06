"""What a loader hands the splitter: a document's text in sections, each with its metadata."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    text: str
    metadata: dict[str, str | int] = field(default_factory=dict)
    # kept as one chunk whatever the chunk size (a question with its answer); the embedding
    # model's window still bounds it
    whole: bool = False
