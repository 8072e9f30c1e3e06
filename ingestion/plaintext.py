"""Plain text whose layout says its structure: questions with their answers, headings, contents.

FAQ files come in a few layouts, each recognised when a text holds at least three of its
questions (two for "Q:" lines): "Q:" and "A:" lines (XZ Utils; "F:"/"A:", "Question:"/"Réponse:"
and the like in other languages); numbered lines at the margin,
"1." or "2.1.", most of them questions (zlib, the sed FAQ), where any numbered line is a
heading; unnumbered questions at the margin with their answer indented (procps). Underlined
titles ("Title" over "=====") are headings in any text, their levels in the order the underline
characters first appear, as reStructuredText has it. A heading that asks a question makes its
section a question with its answer; a numbered list of headings that come again further down is
the text's table of contents, and so is a run of lines with dotted leaders and page numbers
("Naming . . . . . 3"), as PDF manuals print them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from ingestion.sections import FAQ, NAVIGATION, PROSE, Section, Span, structure

# the words that mark a question's and an answer's line in FAQs ("Question:", "Antwort:"), also
# read by the offline answerer (app/llm/extractive/passages.py) in chunks stored without structure
QUESTION_WORDS = "question|frage|pregunta|domanda"
ANSWER_WORDS = "answer|r[ée]ponse|antwort|respuesta|risposta"
# "Q:", "Q.", German "F:", "Question:"; a letter alone only in capitals ("F. Scott" asks nothing)
_QUESTION_LINE = re.compile(rf"^\s*(?:Q\s?[.:]|F\s?:|(?i:{QUESTION_WORDS})\s?:)\s+(\S.*)$")
_ANSWER_LINE = re.compile(rf"^\s*(?:A\s?[.:]|R\s?:|(?i:{ANSWER_WORDS})\s?:)\s+")
_NUMBERED = re.compile(r"^ {0,3}(\d{1,3}(?:\.\d{1,3})*)\.?[ \t]+(\S.*)$")
_UNDERLINE = re.compile(r"^ {0,3}([=\-~*^#+])\1{2,}\s*$")
# "Naming . . . . . . 3", "asn1_create_element. . . . . . 10", "Index ........ iv"
_LEADER = re.compile(r"(?:\.\s?){4,}\s*(?:\d+|[ivxlcdm]+)\s*$", re.I)
_WORD = re.compile(r"\w")
_MIN_QUESTIONS = 3
_MIN_LEADERS = 3


@dataclass(frozen=True)
class _Heading:
    line: int  # the first line of the heading
    end: int  # the line after it (and after its underline or wrapped part)
    level: int
    title: str
    question: bool
    number: str = ""  # "2.1" for a numbered heading


def text_sections(text: str) -> list[Section]:
    """The text's sections: one per heading or question, the rest prose; a table of contents
    a section of its own."""
    lines = text.split("\n")
    contents, headings = _numbered(lines)
    headings = sorted(
        {h.line: h for h in [*_underlined(lines), *(headings or _questions(lines))]}.values(),
        key=lambda heading: heading.line,
    )
    sections: list[Section] = []
    stack: list[_Heading] = []
    starts = [0, *(h.line for h in headings)]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        heading = headings[number - 1] if number else None
        if heading is not None:
            while stack and stack[-1].level >= heading.level:
                stack.pop()
            stack.append(heading)
        first_line = heading.end if heading else start
        shown = [] if heading is None else _shown(lines, heading)
        path = [h.title for h in stack]
        sections.extend(
            _sections(heading, path, shown, lines[first_line:end], contents, first_line)
        )
    return sections


def _shown(lines: list[str], heading: _Heading) -> list[str]:
    """A heading's lines as the text has them, without an underline."""
    return [line for line in lines[heading.line : heading.end] if not _UNDERLINE.match(line)]


def _sections(
    heading: _Heading | None,
    path: list[str],
    title: list[str],
    body: list[str],
    contents: range,
    first_line: int,
) -> Iterator[Section]:
    if not any(_WORD.search(line) for line in body):
        return  # a heading over nothing but its subheadings, or a rule of dashes
    if heading and heading.question:
        text = "\n".join([*title, *body]).strip()
        if text:
            yield Section(text, structure(FAQ, path, question=heading.title))
        return
    # the table of contents, where it lies in this part, is a section of its own
    inside = [i for i in range(first_line, first_line + len(body)) if i in contents]
    pieces = [(body, PROSE)]
    if inside:
        before, after = inside[0] - first_line, inside[-1] + 1 - first_line
        pieces = [(body[:before], PROSE), (body[before:after], NAVIGATION), (body[after:], PROSE)]
    for number, (piece, kind) in enumerate(pieces):
        text = "\n".join([*title, *piece] if number == 0 else piece).strip("\n")
        if text.strip():
            if kind == NAVIGATION:
                yield Section(text.strip(), structure(NAVIGATION, path))
            else:
                text = text.strip()
                yield Section(text, structure(PROSE, path), spans=leader_spans(text))


def leader_spans(text: str) -> tuple[Span, ...]:
    """Runs of at least three lines with dotted leaders and a page number (a table of contents
    or an index, with the letters and page numbers printed between its lines), as navigation."""
    spans = []
    run: list[tuple[int, int]] = []  # (start, end) of each leader line in the current run
    position = 0
    for line in text.split("\n"):
        end = position + len(line)
        if _LEADER.search(line):
            run.append((position, end))
        elif len(line.strip()) > 3:  # a letter of an index, a page number: the run goes on
            if len(run) >= _MIN_LEADERS:
                spans.append(Span(run[0][0], run[-1][1], NAVIGATION))
            run = []
        position = end + 1
    if len(run) >= _MIN_LEADERS:
        spans.append(Span(run[0][0], run[-1][1], NAVIGATION))
    return tuple(spans)


def _numbered(lines: list[str]) -> tuple[range, list[_Heading]]:
    """(the table of contents' lines, the headings) of a text whose numbered lines at the margin
    are mostly questions: a number listed twice is listed first in the contents."""
    found: list[_Heading] = []
    for i, line in enumerate(lines):
        match = _NUMBERED.match(line)
        if not match or (i and lines[i - 1].strip() and not _NUMBERED.match(lines[i - 1])):
            continue
        title, end = _wrapped(lines, i, match.group(2).strip())
        level = match.group(1).count(".") + 1
        found.append(_Heading(i, end, level, title, title.endswith("?"), match.group(1)))
    if sum(h.question for h in found) < _MIN_QUESTIONS:
        return range(0), []
    counts = Counter(h.number for h in found)
    entries: dict[str, _Heading] = {}  # each number listed twice, at its first listing
    for heading in found:
        if counts[heading.number] > 1:
            entries.setdefault(heading.number, heading)
    contents_entries = list(entries.values())
    contents = (
        range(contents_entries[0].line, contents_entries[-1].end)
        if len(contents_entries) >= _MIN_QUESTIONS
        else range(0)
    )
    return contents, [h for h in found if h.line not in contents]


def _wrapped(lines: list[str], i: int, title: str) -> tuple[str, int]:
    """A heading's title with the line it wraps onto when that ends the question."""
    following = lines[i + 1] if i + 1 < len(lines) else ""
    if (
        not title.endswith("?")
        and following.strip().endswith("?")
        and following.startswith((" ", "\t"))
        and not _NUMBERED.match(following)
    ):
        return f"{title} {following.strip()}", i + 2
    return title, i + 1


def _questions(lines: list[str]) -> list[_Heading]:
    """Questions after a "Q:", or at the margin with their answer indented, when a text has
    enough of them."""
    asked = [i for i, line in enumerate(lines) if _QUESTION_LINE.match(line)]
    if len(asked) >= 2:
        return [_asked(lines, i) for i in asked]
    at_margin = []
    for i, line in enumerate(lines):
        if (
            line.rstrip().endswith("?")
            and not line[:1].isspace()
            and (i == 0 or not lines[i - 1].strip())
            and _next_is_indented(lines, i)
        ):
            at_margin.append(_Heading(i, i + 1, 9, line.strip(), True))
    return at_margin if len(at_margin) >= _MIN_QUESTIONS else []


def _asked(lines: list[str], i: int) -> _Heading:
    """A "Q:" question, over the lines up to its "A:" or a blank line."""
    match = _QUESTION_LINE.match(lines[i])
    assert match is not None
    parts, end = [match.group(1).strip()], i + 1
    while end < len(lines) and lines[end].strip() and not _ANSWER_LINE.match(lines[end]):
        parts.append(lines[end].strip())
        end += 1
    return _Heading(i, end, 9, " ".join(parts), True)


def _next_is_indented(lines: list[str], i: int) -> bool:
    following = next((line for line in lines[i + 1 :] if line.strip()), "")
    return following[:1].isspace()


def _underlined(lines: list[str]) -> list[_Heading]:
    """Titles underlined with a run of one character, at least half the title's length."""
    levels: dict[str, int] = {}
    found = []
    for i in range(len(lines) - 1):
        title, under = lines[i].strip(), _UNDERLINE.match(lines[i + 1])
        if (
            title
            and under
            and len(lines[i + 1].strip()) * 2 >= len(title)
            and (i == 0 or not lines[i - 1].strip())
            and not _UNDERLINE.match(lines[i])
        ):
            level = levels.setdefault(under.group(1), len(levels) + 1)
            found.append(_Heading(i, i + 2, level, title, title.endswith("?")))
    return found
