"""What a loader hands the splitter: a document's text in sections, each with its metadata.

The structure a loader knows travels with every chunk cut from a section, as metadata that the
vector store keeps beside its text (values are str or int, as Chroma takes them). The keys:

- `kind`: what the text is, one of `KINDS`: `prose`; `option`, a man-page or command-line option
  with its description; `row`, a CSV row; `faq`, a question with its answer; `code`, a code
  block; `navigation`, a table of contents, an index page or a list of links, never to be quoted
  as an answer. Every chunk has one. A section holding parts of another kind (a code block in
  prose, an index on a PDF page) marks them as `spans`, and each chunk cut from it takes the kind
  of most of its text.
- `heading_path`: the headings above the text, outermost first, joined by `PATH_SEPARATOR`
  ("Installation > On Linux"); absent where the document has no headings.
- `heading`: what a citation names: the nearest heading (a man page's "OPTIONS / Compression").
- `option`: for an option, its flags as written ("-t, --list"); variants listed above one
  description are joined by ", ".
- `question`: for a question with its answer, the question's text, without its number or "Q:".
- `page`: a PDF's page number, from 1.
- `tokens`: set by the splitter: the chunk's length as the embedding model counts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

PROSE = "prose"
OPTION = "option"
ROW = "row"
FAQ = "faq"
CODE = "code"
NAVIGATION = "navigation"
KINDS = (PROSE, OPTION, ROW, FAQ, CODE, NAVIGATION)
PATH_SEPARATOR = " > "


@dataclass(frozen=True)
class Span:
    """Characters start:end of a section's text that are of another kind than the section."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Section:
    text: str
    metadata: dict[str, str | int] = field(default_factory=dict)
    # kept as one chunk whatever the chunk size (a question with its answer); the embedding
    # model's window still bounds it
    whole: bool = False
    spans: tuple[Span, ...] = ()


def structure(
    kind: str,
    path: Sequence[str] = (),
    *,
    heading: str | None = None,
    option: str | None = None,
    question: str | None = None,
) -> dict[str, str | int]:
    """A section's metadata under the keys above; `heading` defaults to the path's last title."""
    metadata: dict[str, str | int] = {"kind": kind}
    titles = [title for title in path if title]
    if titles:
        metadata["heading_path"] = PATH_SEPARATOR.join(titles)
    if heading or titles:
        metadata["heading"] = heading or titles[-1]
    if option:
        metadata["option"] = option
    if question:
        metadata["question"] = question
    return metadata


def kind_of(section: Section, start: int, end: int) -> str:
    """The kind of most of the characters start:end of the section's text (its own kind where
    no span of another kind covers more)."""
    own = str(section.metadata.get("kind", PROSE))
    if not section.spans:
        return own
    counts: dict[str, int] = {}
    for span in section.spans:
        overlap = min(end, span.end) - max(start, span.start)
        if overlap > 0:
            counts[span.kind] = counts.get(span.kind, 0) + overlap
    counts[own] = counts.get(own, 0) + (end - start) - sum(counts.values())
    return max(counts, key=lambda kind: (counts[kind], kind == own))
