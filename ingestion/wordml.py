"""Stream the text out of a Word document (DOCX) without building its tree.

python-docx parses word/document.xml whole: about thirteen times its size in memory, 2.5 GB for a
190 MB part. Here the XML is read as events from the zip member stream and every element is
dropped once read, so memory holds one run of text, one table row and the extracted text.

What is extracted matches what python-docx gives for the body: its paragraphs (with whether their
style is a heading) and tables (cells joined with " | ", a merged cell once, a vertically merged
cell repeated on each row it spans). Text in text boxes, drawings and deleted revisions is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

from ingestion.archives import BoundedZip
from ingestion.errors import InvalidDocument

DOCUMENT_PART = "word/document.xml"
STYLES_PART = "word/styles.xml"
PARTS = (DOCUMENT_PART, STYLES_PART)

# Transitional (what Word writes) and Strict Office Open XML.
_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
)
_MARKUP_COMPATIBILITY = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_RUN_TEXT = {"t": None, "tab": "\t", "ptab": "\t", "cr": "\n", "noBreakHyphen": "-", "br": "\n"}
# Containers whose text is not body text: text boxes and shapes (their content also appears twice,
# as the drawing and as its fallback), and revisions that deleted or moved text away.
_SKIPPED = ("drawing", "pict", "object", "del", "moveFrom")
_BODY_NAMES = (
    "body", "p", "pPr", "pStyle", "r", *_RUN_TEXT, "tbl", "tr", "trPr", "gridBefore", "tc",
    "tcPr", "gridSpan", "vMerge", *_SKIPPED,
)  # fmt: skip


def _tags(names: tuple[str, ...]) -> dict[str, str]:
    tags = {f"{{{ns}}}{name}": name for ns in _NAMESPACES for name in names}
    if "drawing" in names:
        tags[f"{{{_MARKUP_COMPATIBILITY}}}AlternateContent"] = "drawing"
    return tags


_BODY_TAGS = _tags(_BODY_NAMES)
_STYLE_TAGS = _tags(("style", "name"))


def docx_blocks(archive: BoundedZip) -> Iterator[tuple[str, str | None]]:
    """(text, heading title or None) for each paragraph and table of the body, in order."""
    if not archive.has(DOCUMENT_PART):
        raise InvalidDocument(f"{archive.what} has no main text part and cannot be read.")
    headings = _HeadingStyles.read(archive) if archive.has(STYLES_PART) else _HeadingStyles()
    with archive.open(DOCUMENT_PART) as stream:
        yield from _Body(headings).read(stream, archive.what)


def _events(stream: IO[bytes], tags: dict[str, str], what: str) -> Iterator[tuple[str, Any]]:
    parser = etree.iterparse(
        stream,
        events=("start", "end"),
        tag=list(tags),
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
    )
    try:
        yield from parser
    except etree.XMLSyntaxError as exc:
        raise InvalidDocument(f"{what} is damaged and cannot be read.") from exc


def _forget(element: Any) -> None:
    """Drop a finished element and the finished siblings before it, so the tree stays a path."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is not None:
        while (previous := element.getprevious()) is not None:
            parent.remove(previous)


def _val(element: Any, default: str | None = None) -> str | None:
    for ns in _NAMESPACES:
        value = element.get(f"{{{ns}}}val")
        if value is not None:
            return str(value)
    return default


def _local(element: Any) -> str:
    return str(element.tag).rpartition("}")[2]


def _is_heading_style(name: str) -> bool:
    name = name.lower()
    return name.startswith("heading") or name == "title"


@dataclass
class _HeadingStyles:
    """Which paragraph style ids are headings, as python-docx judges by the style's name."""

    headings: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)
    default_is_heading: bool = False

    @classmethod
    def read(cls, archive: BoundedZip) -> _HeadingStyles:
        styles = cls()
        with archive.open(STYLES_PART) as stream:
            for event, element in _events(stream, _STYLE_TAGS, archive.what):
                if event != "end" or _STYLE_TAGS[element.tag] != "style":
                    continue
                if _attr(element, "type") == "paragraph":
                    style_id = _attr(element, "styleId") or ""
                    name = next(
                        (_val(c) or "" for c in element if _STYLE_TAGS.get(c.tag) == "name"), ""
                    )
                    styles.known.add(style_id)
                    if _is_heading_style(name):
                        styles.headings.add(style_id)
                        if _attr(element, "default") in ("1", "true", "on"):
                            styles.default_is_heading = True
                _forget(element)
        return styles

    def is_heading(self, style_id: str | None) -> bool:
        if not self.known and style_id is not None:
            # Without a styles part python-docx falls back on Word's built-in styles.
            return _is_heading_style(style_id)
        # Like python-docx: a paragraph without a known style has the default paragraph style.
        if style_id is None or style_id not in self.known:
            return self.default_is_heading
        return style_id in self.headings


def _attr(element: Any, name: str) -> str | None:
    for ns in _NAMESPACES:
        value = element.get(f"{{{ns}}}{name}")
        if value is not None:
            return str(value)
    return None


@dataclass
class _Cell:
    element: Any
    paragraphs: list[str] = field(default_factory=list)
    span: int = 1
    merge: str | None = None


@dataclass
class _Table:
    element: Any
    rows: list[str] = field(default_factory=list)
    row: Any = None
    cells: list[str] = field(default_factory=list)
    column: int = 0
    cell: _Cell | None = None
    # The text of the cell that opened a vertical merge, by grid column.
    merged_text: dict[int, str] = field(default_factory=dict)


@dataclass
class _Paragraph:
    element: Any
    in_cell: bool
    style: str | None = None
    parts: list[str] = field(default_factory=list)


class _Body:
    def __init__(self, headings: _HeadingStyles) -> None:
        self.headings = headings
        self.skipped = 0
        self.paragraph: _Paragraph | None = None
        self.tables: list[_Table] = []

    def read(self, stream: IO[bytes], what: str) -> Iterator[tuple[str, str | None]]:
        for event, element in _events(stream, _BODY_TAGS, what):
            name = _BODY_TAGS[element.tag]
            if name in _SKIPPED:
                self.skipped += 1 if event == "start" else -1
            elif self.skipped:
                pass
            elif event == "start":
                self._start(name, element)
            else:
                block = self._end(name, element)
                if block is not None:
                    yield block
            if event == "end":
                _forget(element)

    def _cell_of(self, parent: Any) -> _Cell | None:
        table = self.tables[-1] if self.tables else None
        if table is not None and table.cell is not None and table.cell.element is parent:
            return table.cell
        return None

    def _start(self, name: str, element: Any) -> None:
        parent = element.getparent()
        parent_name = _local(parent) if parent is not None else ""
        table = self.tables[-1] if self.tables else None
        if name == "p" and self.paragraph is None:
            in_cell = self._cell_of(parent) is not None
            if parent_name == "body" or in_cell:
                self.paragraph = _Paragraph(element, in_cell)
        elif name == "pStyle" and self.paragraph is not None:
            if parent_name == "pPr" and parent.getparent() is self.paragraph.element:
                self.paragraph.style = _val(element)
        elif name == "tbl" and (parent_name == "body" or self._cell_of(parent) is not None):
            self.tables.append(_Table(element))
        elif table is None:
            return
        elif name == "tr" and parent is table.element:
            table.row, table.cells, table.column = element, [], 0
        elif name == "gridBefore" and parent_name == "trPr" and parent.getparent() is table.row:
            table.column += _int(_val(element))
        elif name == "tc" and table.row is not None and parent is table.row:
            table.cell = _Cell(element)
        elif (
            name in ("gridSpan", "vMerge")
            and table.cell is not None
            and parent_name == "tcPr"
            and parent.getparent() is table.cell.element
        ):
            if name == "gridSpan":
                table.cell.span = max(_int(_val(element)), 1)
            else:
                table.cell.merge = _val(element, "continue")

    def _end(self, name: str, element: Any) -> tuple[str, str | None] | None:
        paragraph = self.paragraph
        table = self.tables[-1] if self.tables else None
        if name in _RUN_TEXT and paragraph is not None:
            parent = element.getparent()
            if parent is not None and _local(parent) == "r":
                paragraph.parts.append(_run_text(name, element))
        elif name == "p" and paragraph is not None and paragraph.element is element:
            self.paragraph = None
            text = "".join(paragraph.parts)
            if paragraph.in_cell and table is not None and table.cell is not None:
                table.cell.paragraphs.append(text)
            elif not paragraph.in_cell:
                heading = self.headings.is_heading(paragraph.style)
                return text, text.strip() if heading else None
        elif table is None:
            return None
        elif name == "tc" and table.cell is not None and table.cell.element is element:
            cell, table.cell = table.cell, None
            text = "\n".join(cell.paragraphs).strip()
            if cell.merge == "continue":
                text = table.merged_text.get(table.column, "")
            else:
                table.merged_text[table.column] = text
            table.cells.append(text)
            table.column += cell.span
        elif name == "tr" and table.row is element:
            table.rows.append(" | ".join(table.cells))
            table.row, table.cells = None, []
        elif name == "tbl" and table.element is element:
            self.tables.pop()
            text = "\n".join(table.rows)
            outer = self.tables[-1] if self.tables else None
            if outer is None:
                return text, None
            if outer.cell is not None:
                outer.cell.paragraphs.append(text)
        return None


def _run_text(name: str, element: Any) -> str:
    if name == "t":
        return str(element.text or "")
    if name == "br" and _attr(element, "type") not in (None, "textWrapping"):
        return ""  # page and column breaks, as python-docx
    return _RUN_TEXT[name] or ""


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
