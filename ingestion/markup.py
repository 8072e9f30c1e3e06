"""Markdown and HTML as sections that keep their structure: one reader for both.

HTML, uploaded or crawled, is first written as Markdown by `html_markdown` (a crawled page is
stored that way), and every Markdown text is cut by `markdown_sections`: one section per heading,
with the path of headings above it; code blocks marked as such inside their section; runs of
lines that are only links (a table of contents, a "See also" list, badges) a `navigation`
section of their own; a heading, or a line in bold alone, that asks a question makes its section
a question with its answer; each command-line option listed in a part that is not an answer (see
`ingestion.options`) a section of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import trafilatura

from ingestion.options import option_pieces
from ingestion.sections import CODE, FAQ, NAVIGATION, OPTION, PROSE, Section, Span, structure

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_BOLD_LINE = re.compile(r"^ {0,3}(?:[-*+] +|\d+[.)] +)?(\*\*|__)(.+?)\1[ \t]*$")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
# [text](url), ![alt](src) and [![badge](src)](url); <https://...> autolinks
_LINK = re.compile(
    r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)|<https?://[^>\s]+>"
)
_WORD = re.compile(r"\w+")
# characters under a heading below which a section that holds no sentence does not stand alone:
# chosen on the support evaluation set (scripts/eval_support.json), where labels ("Related
# links") and lone commands ("$ pip install httplib2") are under it
_SMALL = 40
_NUMBER = re.compile(r"^(?:Q\s*[:.]|\d{1,3}(?:\.\d{1,3})*\.?)\s+", re.I)  # "2.1. ", "Q: "


def link_dominated(line: str) -> bool:
    """Whether a line is there to link elsewhere: it has a link, and its other words are few
    (at most three, and no more than the links' own)."""
    links = _LINK.findall(line)
    if not links and not _LINK.search(line):
        return False
    rest = _LINK.sub(" ", _LIST_MARKER.sub("", line, count=1))
    others = len(_WORD.findall(rest))
    return others <= 3 and others <= max(1, len(_WORD.findall(" ".join(links))))


@dataclass
class _Part:
    """The lines under one heading (its title apart), with the path of titles down to it."""

    path: list[str]
    question: str | None = None
    lines: list[str] = field(default_factory=list)


def markdown_sections(text: str) -> list[Section]:
    """The text's sections (see the module's docstring), in reading order."""
    sections: list[Section] = []
    for part in _parts(text.split("\n")):
        sections.extend(_part_sections(part))
    return _join_small(sections)


def _join_small(sections: list[Section]) -> list[Section]:
    """Sections too small to stand alone (a page's title, a label over a list of links, a
    heading over one command: no sentence, a few characters) opening the prose or links that
    follow: alone, such a chunk is its document's title and a word or two, and a vague question
    about the document finds it first."""
    joined: list[Section] = []
    waiting: Section | None = None
    for section in sections:
        if waiting is not None and section.metadata["kind"] in (PROSE, NAVIGATION):
            section = _after(waiting, section)
        elif waiting is not None:
            joined.append(waiting)
        waiting = None
        if section.metadata["kind"] == PROSE and not _stands_alone(_body(section)):
            waiting = section
        else:
            joined.append(section)
    if waiting is not None:
        joined.append(waiting)
    return joined


def _stands_alone(body: str) -> bool:
    """Whether a section's text under its heading says something: a sentence, or more than a
    label's or a command's few characters."""
    return len(body) >= _SMALL or body.endswith((".", "!", "?", "\u3002"))


def _body(section: Section) -> str:
    """A section's text under its heading's title."""
    title = str(section.metadata.get("heading", ""))
    text = section.text.strip()
    return text[len(title) :].strip() if title and text.startswith(title) else text


def _after(first: Section, section: Section) -> Section:
    """The section with `first`'s text before its own."""
    shift = len(first.text) + 2
    spans = tuple(Span(s.start + shift, s.end + shift, s.kind) for s in section.spans)
    if section.metadata["kind"] == PROSE:
        spans = first.spans + spans
    return Section(f"{first.text}\n\n{section.text}", section.metadata, section.whole, spans)


def _parts(lines: list[str]) -> Iterator[_Part]:
    """The lines grouped under their headings, outside code blocks."""
    stack: list[tuple[int, str]] = []
    base = 0  # the level of the last true heading, under which questions in bold sit
    part = _Part([])
    fence: str | None = None
    skip = False
    for i, line in enumerate(lines):
        if skip:  # a setext heading's underline
            skip = False
            continue
        opening = _FENCE.match(line)
        heading = None
        if fence is None and not opening:
            following = lines[i + 1] if i + 1 < len(lines) else ""
            heading = _heading(line, following, part.lines[-1] if part.lines else "")
        elif opening and fence is None:
            fence = opening.group(1)
        elif opening and opening.group(1) == fence:
            fence = None
        if heading is None:
            part.lines.append(line)
            continue
        level, title, kind = heading
        skip = kind == "setext"
        if kind == "bold":
            level = min(base + 1, 6)
        else:
            base = level
        yield part
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        question = _NUMBER.sub("", title) if title.endswith("?") else None
        part = _Part([t for _, t in stack], question)
    yield part


def _heading(line: str, following: str, previous: str) -> tuple[int, str, str] | None:
    """(level, title, "atx", "setext" or "bold") when the line is a heading; a line in bold
    alone is one only when it asks a question."""
    if atx := _ATX_HEADING.match(line):
        title = atx.group(2).strip()
        return (len(atx.group(1)), title, "atx") if title.strip("#") else None
    underline = _SETEXT_UNDERLINE.match(following)
    if underline and line.strip() and not previous.strip() and not _LIST_MARKER.match(line):
        return (1 if underline.group(1).startswith("=") else 2), line.strip(), "setext"
    bold = _BOLD_LINE.match(line)
    if bold and bold.group(2).strip().endswith("?"):
        return 0, bold.group(2).strip(), "bold"
    return None


def _part_sections(part: _Part) -> Iterator[Section]:
    """A part's text (its code blocks marked as spans), its runs of links and its options, as
    sections in reading order; the heading's title opens the first of them unless that is an
    option, whose text opens with its flags (the title is in its metadata)."""
    kind = FAQ if part.question else PROSE
    title = part.path[-1] if part.path else None
    for number, run in enumerate(_runs(part.lines, options=kind == PROSE)):
        blocks = run.blocks
        if number == 0 and title and run.kind != OPTION:
            blocks = [([title], False), *blocks]
        text = ""
        spans = []
        for block, is_code in blocks:
            text += "\n\n" if text else ""
            if is_code:
                spans.append(Span(len(text), len(text) + len("\n".join(block)), CODE))
            text += "\n".join(block)
        if run.kind == NAVIGATION:
            yield Section(text, structure(NAVIGATION, part.path))
        elif run.kind == OPTION:
            yield Section(text, structure(OPTION, part.path, option=run.option))
        else:
            metadata = structure(kind, part.path, question=part.question)
            yield Section(text, metadata, spans=tuple(spans) if kind == PROSE else ())


@dataclass
class _Run:
    """Blocks of a part that are one section: text, links, or one option with its description."""

    kind: str  # PROSE (the part's own kind), NAVIGATION or OPTION
    blocks: list[tuple[list[str], bool]]  # (lines, whether a fenced code block)
    option: str | None = None
    # an option whose flags stood alone (a <dt>): the blocks after them, up to the next option,
    # are its description (the <dd>), as a man page's are
    open: bool = False


def _runs(lines: list[str], options: bool) -> list[_Run]:
    """The part's blocks grouped into runs; with `options`, each option listed (see
    `ingestion.options`) a run of its own, with the blocks indented under it (flags alone: the
    blocks up to the next option)."""
    runs: list[_Run] = []
    for block, is_code in _blocks(lines):
        if _is_navigation(block, is_code):
            _add(runs, NAVIGATION, block, is_code)
            continue
        pieces = option_pieces(block) if options and not is_code else [(None, block)]
        for flags, piece in pieces:
            last = runs[-1] if runs else None
            if flags is None:
                if last and last.kind == OPTION and (last.open or piece[0][:1].isspace()):
                    last.blocks.append((piece, is_code))
                else:
                    _add(runs, PROSE, piece, is_code)
            elif last and last.open and len(piece) == 1 and last.blocks == [([last.option], False)]:
                # variants of one option over its description, each alone (a <dt> each)
                last.option = f"{last.option}, {flags}"
                last.blocks = [([last.option], False)]
            else:
                runs.append(_Run(OPTION, [(piece, False)], flags, open=len(piece) == 1))
    return runs


def _is_navigation(block: list[str], is_code: bool) -> bool:
    """Whether the block is only there to link: links, two at least, and few other words."""
    return (
        not is_code
        and all(link_dominated(line) for line in block if line.strip())
        and len(_LINK.findall("\n".join(block))) >= 2
    )


def _add(runs: list[_Run], kind: str, block: list[str], is_code: bool) -> None:
    """The block at the end of the last run when that is of its kind, else a run of its own."""
    if runs and runs[-1].kind == kind:
        runs[-1].blocks.append((block, is_code))
    else:
        runs.append(_Run(kind, [(block, is_code)]))


def _blocks(lines: list[str]) -> Iterator[tuple[list[str], bool]]:
    """(lines, whether it is a fenced code block) for each block of the part."""
    block: list[str] = []
    fence: str | None = None
    for line in lines:
        opening = _FENCE.match(line)
        if fence is None and opening:
            if block:
                yield block, False
            block, fence = [line], opening.group(1)
            continue
        if fence is not None:
            block.append(line)
            if opening and opening.group(1) == fence:
                yield block, True
                block, fence = [], None
            continue
        if line.strip():
            block.append(line)
        elif block:
            yield block, False
            block = []
    if block:
        yield block, fence is not None


# What is never text, and (for a page's main content) what is around it on every page of a site.
_DROPPED = frozenset({"script", "style", "noscript", "template", "head", "svg", "button"})
_AROUND_CONTENT = frozenset({"nav", "header", "footer", "aside"})
_AROUND_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCKS = frozenset(
    "address article blockquote center dd details dialog div dl dt fieldset figcaption figure "
    "footer header hgroup li main nav ol p section summary table tbody td tfoot th thead title "
    "tr ul aside".split()
)
# Blocks nested deeper are read as flat text: each level costs up to three Python frames.
_MAX_DEPTH = 200
# huge_tree: libxml2 otherwise drops what is nested deeper than 256 elements, and uploads may
# nest up to MAX_HTML_DEPTH (crawled pages are bounded in size only)
_PARSER = lxml.html.HTMLParser(encoding="utf-8", huge_tree=True)
_BREAK = "\u2028"  # a <br>, as the line separator of Unicode (taken out of the source first)
_EMPHASIS = frozenset({"b", "strong", "em", "i"})
_LAYOUT_SIGNS = frozenset(
    {"table", "ul", "ol", "p", "div", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
)


@dataclass
class _Inline:
    """A run of inline text: (text, link target or None, emphasised) pieces."""

    pieces: list[tuple[str, str | None, bool]] = field(default_factory=list)

    def add(self, text: str | None, href: str | None = None, emphasis: bool = False) -> None:
        if text:
            self.pieces.append((text, href, emphasis))

    def markdown(self, in_list: bool = False) -> str:
        """The run as one paragraph: links written as links only where the run is there to
        link (`link_dominated`: an item of a list, or a line of several links), a question in
        bold alone written in bold."""
        plain = _squeeze("".join(text for text, _, _ in self.pieces))
        if not plain:
            return ""
        marked = [(_squeeze(text), href, bold) for text, href, bold in self.pieces]
        emphasised = [text for text, _, bold in marked if bold and text]
        if len(emphasised) == 1 and emphasised[0] == plain and plain.endswith("?"):
            return f"**{plain}**"
        linked = "".join(
            f" [{text.strip()}]({href}) " if href and text.strip() else f"{text}"
            for text, href, _ in self.pieces
        )
        linked = _squeeze(linked)
        links = sum(1 for _, href, _ in self.pieces if href)
        return linked if (links >= 2 or in_list) and link_dominated(linked) else plain


def _squeeze(text: str) -> str:
    """Runs of white space as one space, as browsers show them; the line breaks of <br> kept."""
    lines = (" ".join(line.split()) for line in text.split(_BREAK))
    return "\n".join(line for line in lines if line)


class _Writer:
    """Writes an HTML tree as Markdown blocks."""

    def __init__(self, base_url: str | None, main_content: bool, in_list: bool = False) -> None:
        self._base_url = base_url
        self._main_content = main_content
        self._in_list = in_list
        self.blocks: list[str] = []
        self._inline = _Inline()
        self._level = 0  # of the last heading written

    def write(self, element: lxml.html.HtmlElement, depth: int = 0) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in _DROPPED or not tag or self._around_content(element, tag):
            return
        if depth > _MAX_DEPTH:  # read as flat text, within Python's recursion limit
            self._inline.add(element.text_content())
            return
        if "question" in (element.get("class") or "").split():
            # a question of a list of them (DocBook's qandaset): a heading under the last one
            self._flush()
            question = _squeeze(element.text_content())
            if question:
                self.blocks.append(f"{'#' * min(self._level + 1, 6)} {question}")
        elif tag in _HEADINGS:
            self._flush()
            self._level = _HEADINGS[tag]
            title = _squeeze(element.text_content())
            if title:
                self.blocks.append(f"{'#' * self._level} {title}")
        elif tag == "pre":
            self._flush()
            code = element.text_content().strip("\n")
            if code.strip():
                self.blocks.append(f"```\n{code}\n```")
        elif tag in ("ul", "ol"):
            self._flush()
            self._list(element, tag == "ol", depth)
        elif tag == "table":
            self._flush()
            self._table(element, depth)
        elif tag == "br":
            self._inline.add(_BREAK)
        elif tag == "a" and element.get("href") and not element.findall(".//p"):
            self._inline.add(element.text_content(), self._href(element.get("href", "")))
        elif tag in _EMPHASIS and not len(element):
            self._inline.add(element.text_content(), emphasis=True)
        else:
            block = tag in _BLOCKS
            if block:
                self._flush()
            self._inline.add(element.text)
            for child in element:
                self.write(child, depth + 1)
                self._inline.add(child.tail)
            if block:
                self._flush()

    def markdown(self) -> str:
        self._flush()
        return "\n\n".join(self.blocks)

    def _around_content(self, element: lxml.html.HtmlElement, tag: str) -> bool:
        if not self._main_content:
            return False
        return tag in _AROUND_CONTENT or (element.get("role") or "").lower() in _AROUND_ROLES

    def _flush(self) -> None:
        text = self._inline.markdown(self._in_list)
        self._inline = _Inline()
        if text:
            self.blocks.append(text)

    def _href(self, href: str) -> str:
        href = href.strip().replace(" ", "%20").replace(")", "%29")
        if self._base_url:
            try:
                return urljoin(self._base_url, href)
            except ValueError:
                return href
        return href

    def _list(self, element: lxml.html.HtmlElement, ordered: bool, depth: int) -> None:
        """One block, a line per item ("- " or "1. "), an item's other lines indented under it."""
        items: list[list[str]] = []
        for item in element:
            if not isinstance(item.tag, str) or item.tag.lower() != "li":
                continue
            inner = _Writer(self._base_url, self._main_content, in_list=True)
            inner._level = self._level
            inner.write(item, depth + 1)
            item_lines = [line for line in inner.markdown().split("\n") if line.strip()]
            if item_lines:
                marker = f"{len(items) + 1}. " if ordered else "- "
                items.append(
                    [marker + item_lines[0], *(" " * len(marker) + i for i in item_lines[1:])]
                )
        if not all(link_dominated(item[0]) for item in items):  # a list of things, not links
            items = [[_LINK.sub(_link_text, line) for line in item] for item in items]
        if items:
            self.blocks.append("\n".join(line for item in items for line in item))

    def _table(self, element: lxml.html.HtmlElement, depth: int) -> None:
        """A table of data as a line per row, its cells joined by " | "; a table that lays out
        blocks (lists, paragraphs, other tables) is read as the blocks it holds."""
        rows = [row for row in element.iter("tr") if next(row.iterancestors("table")) is element]
        if any(
            isinstance(inner.tag, str) and inner.tag.lower() in _LAYOUT_SIGNS
            for inner in element.iterdescendants()
        ):
            for row in rows:
                self.write(row, depth + 1)
            return
        lines = []
        for row in rows:
            cells = [
                _squeeze(cell.text_content())
                for cell in row
                if isinstance(cell.tag, str) and cell.tag.lower() in ("td", "th")
            ]
            if any(cells):
                lines.append(" | ".join(cell for cell in cells if cell))
        if lines:
            self.blocks.append("\n".join(lines))


def html_markdown(source: str, *, base_url: str | None = None, main_content: bool = False) -> str:
    """An HTML document as Markdown: headings, paragraphs, lists (links kept as links where an
    item is only there to link), code blocks, tables a line per row; scripts and styles left
    out. Uploaded pages keep all their text, their <title> first.

    With `main_content` (a crawled page), what is around the content on every page of a site is
    left out: <nav>, <header>, <footer>, <aside> and their ARIA roles, then every block that
    trafilatura does not count as the page's main content (it judges better than those tags
    alone, but its own output loses headings, code blocks and lists; so it only chooses the
    blocks here). Relative links are made absolute against `base_url`.
    """
    try:
        # as bytes: lxml refuses a str that declares its encoding (<?xml ... encoding=...?>)
        tree = lxml.html.document_fromstring(source.replace(_BREAK, " ").encode(), parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return ""
    writer = _Writer(base_url, main_content)
    writer.write(tree)
    writer.markdown()
    blocks = writer.blocks
    if not main_content:
        title = _squeeze(tree.findtext(".//title") or "")
        return "\n\n".join([title, *blocks] if title else blocks)
    kept = trafilatura.extract(
        source,
        url=base_url,
        output_format="txt",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_recall=True,
    )
    return "\n\n".join(_main_blocks(blocks, f" {' '.join(_WORD.findall(kept or ''))} "))


def _main_blocks(blocks: list[str], kept: str) -> list[str]:
    """The blocks whose words are in `kept` (each line of a list or paragraph on its own),
    and the headings over them."""
    chosen: list[str] = []
    for block in blocks:
        if _ATX_HEADING.match(block):
            chosen.append(block)
            continue
        lines = [block] if _FENCE.match(block) else block.split("\n")
        inside = [line for line in lines if f" {' '.join(_words(line))} " in kept]
        if inside:
            chosen.append("\n".join(inside))
    return [
        block
        for i, block in enumerate(chosen)
        if not (heading := _ATX_HEADING.match(block))
        or _content_below(chosen[i + 1 :], len(heading.group(1)))
    ]


def _content_below(blocks: list[str], level: int) -> bool:
    """Whether a block other than a heading comes before the next heading of `level` or above."""
    for block in blocks:
        heading = _ATX_HEADING.match(block)
        if not heading:
            return True
        if len(heading.group(1)) <= level:
            return False
    return False


def _words(markdown: str) -> list[str]:
    """The words of a line as a reader sees them: a link's text, not its target."""
    return _WORD.findall(_LINK.sub(_link_text, markdown))


def _link_text(link: re.Match[str]) -> str:
    return link.group(1) or ""
