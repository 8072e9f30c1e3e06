"""Recognise an uploaded file by its content, check that it can be read, and extract its text.

A document becomes a list of sections (a PDF page, the text under a heading, ...) whose metadata
travels with every chunk cut from it, so an answer can cite "page 3" or "Installation".
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import docx
from bs4 import BeautifulSoup
from docx.table import Table
from docx.text.paragraph import Paragraph
from pypdf import PdfReader

from ingestion.errors import InvalidDocument, UnsupportedDocument

KINDS = ("pdf", "docx", "txt", "md", "html", "csv")
TEXT_KINDS = frozenset({"txt", "md", "html", "csv"})

# A .docx is a zip archive; these bound what opening one may cost. Python's zipfile never inflates
# a member beyond the size its directory declares, so checking the declared sizes is enough.
MAX_ZIP_MEMBERS = 5_000
MAX_ZIP_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ZIP_COMPRESSION_RATIO = 100
# Small XML parts can legitimately compress very well; only large members are judged by ratio.
ZIP_RATIO_MIN_BYTES = 1024 * 1024

_KIND_BY_EXTENSION = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".tsv": "csv",
}
_DESCRIPTION = {
    "pdf": "a PDF",
    "docx": "a Word document",
    "txt": "text",
    "md": "Markdown",
    "html": "HTML",
    "csv": "CSV",
}
_BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc, .xls or .ppt)"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_HTML_DOCUMENT = re.compile(
    r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(!doctype\s+html|html)\b", re.I | re.S
)
_HTML_TAG = re.compile(
    r"</?(html|head|body|p|div|span|a|h[1-6]|ul|ol|li|table|tr|td|br)\b[^>]*>", re.I
)
_MARKDOWN_SIGNS = re.compile(
    r"^ {0,3}(#{1,6} \S|```|~~~)|\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*", re.M
)
_MARKDOWN_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_MARKDOWN_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_CSV_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Section:
    text: str
    metadata: dict[str, str | int] = field(default_factory=dict)


def detect_kind(data: bytes, filename: str) -> str:
    """Return one of KINDS, judged by content; the extension only decides between text kinds."""
    claimed = _KIND_BY_EXTENSION.get(Path(filename).suffix.lower())
    actual = _kind_from_content(data, filename, claimed)
    if claimed not in (None, actual) and not (claimed in TEXT_KINDS and actual in TEXT_KINDS):
        raise UnsupportedDocument(
            f"{filename!r} is named like {_DESCRIPTION[claimed]} but contains "
            f"{_DESCRIPTION[actual]}. Rename it or export it in the format its name says."
        )
    return actual


def validate(data: bytes, filename: str) -> str:
    """Cheaply check at upload time that the file can be ingested; return its kind."""
    if not data:
        raise InvalidDocument("The file is empty.")
    kind = detect_kind(data, filename)
    if kind == "pdf":
        _open_pdf(data)
    elif kind == "docx":
        _open_docx(data)
    elif not _decode_text(data).strip():
        raise InvalidDocument("The file contains no text.")
    return kind


def load(data: bytes, kind: str) -> list[Section]:
    """Extract the text of a document of the given kind as sections, in reading order."""
    loader = _LOADERS.get(kind)
    if loader is None:
        raise UnsupportedDocument(f"Documents of type {kind!r} are not supported.")
    sections = loader(data)
    if not sections:
        raise InvalidDocument(
            "No text could be extracted from this document. A scanned PDF needs OCR first."
        )
    return sections


def _decode_text(data: bytes) -> str:
    text = _decode(data)
    if text is None:
        raise InvalidDocument(
            "The file could not be read as text. Save it as UTF-8 and upload it again."
        )
    return text


def _decode(data: bytes) -> str | None:
    """Text in UTF-8 or BOM-marked UTF-16, else in Windows-1252/Latin-1 if that reads as text.

    None for binary data.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8-sig", "cp1252", "latin-1"]
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text or len(_CONTROL_CHARS.findall(text)) > len(text) // 100:
            return None
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return None


def _kind_from_content(data: bytes, filename: str, claimed: str | None) -> str:
    if data.lstrip().startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") and "word/document.xml" in _zip_members(data):
        return "docx"
    text = _decode(data)
    if text is None:
        what = next((name for magic, name in _BINARY_SIGNATURES if data.startswith(magic)), None)
        if what is None and claimed in TEXT_KINDS:
            raise InvalidDocument(
                f"{filename!r} could not be read as text. Save it as UTF-8 and upload it again."
            )
        raise UnsupportedDocument(
            f"{filename!r} is not a supported document: it contains {what or 'binary data'}."
            " Supported types are PDF, Word (.docx), text, Markdown, HTML and CSV."
        )
    if _HTML_DOCUMENT.match(text):
        return "html"
    if claimed in TEXT_KINDS:
        return claimed
    if _looks_like_csv(text):
        return "csv"
    if _MARKDOWN_SIGNS.search(text):
        return "md"
    if len(_HTML_TAG.findall(text[:4096])) >= 3:
        return "html"
    return "txt"


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text[:65536].split("\n")[:50] if line.strip()]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=_CSV_DELIMITERS)
        widths = {len(row) for row in csv.reader(lines, dialect)}
    except csv.Error:
        return False
    return len(widths) == 1 and widths.pop() >= 2


def _zip_members(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except zipfile.BadZipFile as exc:
        raise InvalidDocument("The file is a damaged zip archive and cannot be read.") from exc


def _check_zip_limits(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise InvalidDocument("The Word document is damaged and cannot be read.") from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise InvalidDocument(
            f"The Word document contains {len(members)} parts; at most {MAX_ZIP_MEMBERS} are "
            "allowed."
        )
    expands_too_far = any(
        member.file_size > ZIP_RATIO_MIN_BYTES
        and member.file_size > MAX_ZIP_COMPRESSION_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if expands_too_far or sum(m.file_size for m in members) > MAX_ZIP_UNCOMPRESSED_BYTES:
        raise InvalidDocument(
            "The Word document expands to an unreasonable size (it looks like a zip bomb) and "
            "was refused."
        )


def _open_pdf(data: bytes) -> PdfReader:
    # pypdf signals damage with many exception types (its own, ValueError, KeyError, ...).
    try:
        reader = PdfReader(io.BytesIO(data))
        # Files protected only by an owner password (rights to print, copy...) open with "".
        locked = reader.is_encrypted and not reader.decrypt("")
        page_count = 0 if locked else len(reader.pages)
    except Exception as exc:
        raise InvalidDocument("The PDF is damaged and cannot be read.") from exc
    if locked:
        raise InvalidDocument(
            "The PDF is password-protected. Remove the password and upload it again."
        )
    if page_count == 0:
        raise InvalidDocument("The PDF has no pages.")
    return reader


def _open_docx(data: bytes) -> docx.document.Document:
    _check_zip_limits(data)
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise InvalidDocument("The Word document is damaged and cannot be read.") from exc


def _load_pdf(data: bytes) -> list[Section]:
    sections = []
    for number, page in enumerate(_open_pdf(data).pages, start=1):
        try:
            text = page.extract_text()
        except Exception as exc:
            raise InvalidDocument(
                f"Page {number} of the PDF is damaged and cannot be read."
            ) from exc
        if text.strip():
            sections.append(Section(text.strip(), {"page": number}))
    return sections


def _load_docx(data: bytes) -> list[Section]:
    def blocks() -> Iterable[tuple[str, str | None]]:
        for block in _open_docx(data).iter_inner_content():
            if isinstance(block, Paragraph):
                style = (block.style.name or "").lower() if block.style is not None else ""
                is_heading = style.startswith("heading") or style == "title"
                yield block.text, block.text.strip() if is_heading else None
            elif isinstance(block, Table):
                yield _table_text(block), None

    return _group_under_headings(blocks(), separator="\n\n")


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        # A merged cell is reported once per grid column it spans.
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            if not cells or text != cells[-1]:
                cells.append(text)
        rows.append(" | ".join(cells))
    return "\n".join(rows)


def _load_markdown(data: bytes) -> list[Section]:
    def blocks() -> Iterable[tuple[str, str | None]]:
        fence = None
        for line in _decode_text(data).split("\n"):
            opening = _MARKDOWN_FENCE.match(line)
            heading = None if fence or opening else _MARKDOWN_HEADING.match(line)
            if opening and fence is None:
                fence = opening.group(1)
            elif opening and opening.group(1) == fence:
                fence = None
            yield line, heading.group(1) if heading else None

    return _group_under_headings(blocks(), separator="\n")


# Private-use characters, removed from the input first, mark structure inside get_text().
_BLOCK_END = "\ue000"
_HEADING_START = "\ue001"
_HTML_DROPPED = ("script", "style", "noscript", "template")
_HTML_BLOCKS = (
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "li", "tr",
    "table", "ul", "ol", "dl", "dt", "dd", "pre", "blockquote", "figcaption", "h1", "h2", "h3",
    "h4", "h5", "h6", "title",
)  # fmt: skip
_HTML_SPLIT_HEADINGS = ("h1", "h2", "h3")


def _load_html(data: bytes) -> list[Section]:
    source = _decode_text(data).replace(_BLOCK_END, "").replace(_HEADING_START, "")
    soup = BeautifulSoup(source, "lxml")
    for element in soup.find_all(_HTML_DROPPED):
        element.decompose()
    headings = []
    for element in soup.find_all(_HTML_SPLIT_HEADINGS):
        headings.append(element.get_text(" ", strip=True))
        element.insert_before(_HEADING_START)
    for element in soup.find_all(_HTML_BLOCKS):
        element.append(_BLOCK_END)
    for element in soup.find_all(["br", "td", "th"]):
        element.append(_BLOCK_END if element.name == "br" else " ")
    # Line breaks in HTML source are just spaces; only block elements break lines.
    text = re.sub(r"\s+", " ", soup.get_text())
    lines = (line.strip() for line in text.replace(_BLOCK_END, "\n").split("\n"))
    text = "\n".join(line for line in lines if line)
    preamble, *parts = text.split(_HEADING_START)
    return _group_under_headings(
        [(preamble, None), *zip(parts, headings, strict=True)], separator="\n"
    )


def _load_csv(data: bytes) -> list[Section]:
    text = _decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:65536], delimiters=_CSV_DELIMITERS
        )
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [
            row
            for row in csv.reader(io.StringIO(text), dialect)
            if any(cell.strip() for cell in row)
        ]
    except csv.Error as exc:
        raise InvalidDocument(f"The CSV file cannot be parsed: {exc}.") from exc
    if not rows:
        return []
    header, records = [name.strip() for name in rows[0]], rows[1:]
    if not records:
        return [Section(", ".join(header), {})]
    return [Section("\n\n".join(_csv_record(header, row) for row in records), {})]


def _csv_record(header: list[str], row: list[str]) -> str:
    # Each row repeats the column names, so a chunk holding any row can be understood alone.
    lines = []
    for i, value in enumerate(row):
        name = header[i] if i < len(header) and header[i] else f"column {i + 1}"
        if value.strip():
            lines.append(f"{name}: {value.strip()}")
    return "\n".join(lines)


def _load_text(data: bytes) -> list[Section]:
    text = _decode_text(data).strip()
    return [Section(text, {})] if text else []


def _group_under_headings(
    blocks: Iterable[tuple[str, str | None]], *, separator: str
) -> list[Section]:
    """Group (text, heading title or None) blocks into sections; a heading block opens a new one."""
    sections: list[Section] = []
    heading: str | None = None
    texts: list[str] = []

    def close_section() -> None:
        body = separator.join(texts).strip()
        if body:
            sections.append(Section(body, {"heading": heading} if heading else {}))

    for text, title in blocks:
        if title is not None:
            close_section()
            heading, texts = title, []
        texts.append(text)
    close_section()
    return sections


_LOADERS: dict[str, Callable[[bytes], list[Section]]] = {
    "pdf": _load_pdf,
    "docx": _load_docx,
    "txt": _load_text,
    "md": _load_markdown,
    "html": _load_html,
    "csv": _load_csv,
}
