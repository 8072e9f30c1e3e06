"""Recognise an uploaded file by its content, check that it can be read, and extract its text.

A document becomes a list of sections (a PDF page, the text under a heading, ...) whose metadata
travels with every chunk cut from it, so an answer can cite "page 3" or "Installation".
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from ingestion import wordml
from ingestion.archives import BoundedZip, PeekLimitReached, zip_names
from ingestion.errors import InvalidDocument, UnsupportedDocument
from ingestion.manpages import man_page_sections
from ingestion.markup import html_markdown, markdown_sections
from ingestion.plaintext import leader_spans, text_sections
from ingestion.sections import FAQ, PATH_SEPARATOR, PROSE, ROW, Section, structure

KINDS = ("pdf", "docx", "txt", "md", "html", "csv")
TEXT_KINDS = frozenset({"txt", "md", "html", "csv"})

MAX_PDF_PAGES = 5_000
# What checking a file in the upload request may cost; past it the check is left to load(), which
# runs in the background and fails the document with the reason. Counted in reads of the file
# (pypdf reads an object header a byte at a time: about 18 reads an object), not in seconds, so
# the same file always gets the same answer whatever the server's load. Published PDFs of a few
# hundred pages need about 300 to 1,000; a simple one of 300 pages without object streams 9,700.
PDF_CHECK_MAX_READS = 10_000
PDF_CHECK_MAX_BYTES = 2 * 1024 * 1024
DOCX_CHECK_PEEK_BYTES = 1024 * 1024
# An HTML file is parsed whole in memory, and read element by element, with a cost that grows
# with its nesting depth; browsers themselves stop nesting at 512.
MAX_HTML_BYTES = 2 * 1024 * 1024
MAX_HTML_DEPTH = 512
# csv.Sniffer's quote detection takes time that grows with the square of its sample (30 s for a
# crafted 180 kB line); its judgement needs only the first lines.
CSV_SNIFF_CHARS = 4096

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
# What a file picker offers: the suffixes above, and text formats no kind is named after, which
# are read as text and judged by their content like any file whose suffix is not listed above.
SUFFIXES = (*_KIND_BY_EXTENSION, ".rst")
_DESCRIPTION = {
    "pdf": "a PDF",
    "docx": "a Word document",
    "txt": "text",
    "md": "Markdown",
    "html": "HTML",
    "csv": "CSV",
}
# Formats recognised by their first bytes, so a file in one is refused by name, whatever its own
# name says. Each signature has bytes no text starts with, or is long and specific enough, so a
# file that matches is refused even if the rest of it would read as text; "MZ" is too short for
# that and only names a file that does not read as text.
_BINARY_SIGNATURES = tuple(
    (re.compile(pattern), what)
    for pattern, what in (
        (rb"\x89PNG\r\n\x1a\n", "a PNG image"),
        (rb"\xff\xd8\xff", "a JPEG image"),
        (rb"GIF8[79]a", "a GIF image"),
        (rb"RIFF[\s\S]{4}WEBP", "a WebP image"),
        (rb"II\*\x00|MM\x00\*", "a TIFF image"),
        (rb"\x00\x00\x01\x00", "an icon"),
        (rb"\x7fELF", "a Linux program"),
        (rb"\xcf\xfa\xed\xfe|\xce\xfa\xed\xfe|\xca\xfe\xba\xbe", "a compiled program"),
        (rb"\x00asm", "a WebAssembly program"),
        (rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc, .xls or .ppt)"),
        (rb"PK\x03\x04|PK\x05\x06", "a zip archive"),
        (rb"\x1f\x8b", "a gzip archive"),
        (rb"BZh[1-9]1AY&SY", "a bzip2 archive"),
        (rb"\xfd7zXZ\x00", "an xz archive"),
        (rb"\x28\xb5\x2f\xfd", "a zstd archive"),
        (rb"Rar!\x1a\x07", "a RAR archive"),
        (rb"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (rb"SQLite format 3\x00", "an SQLite database"),
        (rb"[\s\S]{4}ftyp", "a video or audio file (MP4, MOV, M4A)"),
        (rb"RIFF[\s\S]{4}(WAVE|AVI )", "a video or audio file (WAV, AVI)"),
        (rb"\x1a\x45\xdf\xa3", "a video file (Matroska, WebM)"),
        (rb"OggS\x00|fLaC|ID3[\x02-\x04]\x00", "an audio file (Ogg, FLAC, MP3)"),
    )
)
_WEAK_BINARY_SIGNATURES = ((re.compile(rb"MZ"), "a Windows program"),)
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
_CSV_DELIMITERS = ",;\t|"


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
    """Cheaply check at upload time that the file can be ingested; return its kind.

    Bounded in work whatever the file: what would cost more to check is left to `load`.
    """
    if not data:
        raise InvalidDocument("The file is empty.")
    kind = detect_kind(data, filename)
    if kind == "pdf":
        _check_pdf(data)
    elif kind == "docx":
        _check_docx(data)
    elif not (text := _decode_text(data)).strip():
        raise InvalidDocument("The file contains no text.")
    elif kind == "html":
        _check_html(text)
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
    if data.startswith(b"PK\x03\x04") and wordml.DOCUMENT_PART in zip_names(data):
        return "docx"
    what = _looks_like(data, _BINARY_SIGNATURES)
    text = None if what else _decode(data)
    if text is None:
        what = what or _looks_like(data, _WEAK_BINARY_SIGNATURES)
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


def _looks_like(data: bytes, signatures: tuple[tuple[re.Pattern[bytes], str], ...]) -> str | None:
    return next((what for magic, what in signatures if magic.match(data, 0, 32)), None)


def _looks_like_csv(text: str) -> bool:
    sample = text[:CSV_SNIFF_CHARS].split("\n")[:50]
    if len(text) > CSV_SNIFF_CHARS:
        sample = sample[:-1]  # cut short
    lines = [line for line in sample if line.strip()]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=_CSV_DELIMITERS)
        widths = {len(row) for row in csv.reader(lines, dialect)}
    except csv.Error:
        return False
    return len(widths) == 1 and widths.pop() >= 2


def _word_archive(data: bytes, *, peek_bytes: int | None = None) -> BoundedZip:
    return BoundedZip(
        data, what="The Word document", read_parts=wordml.PARTS, peek_bytes=peek_bytes
    )


def _check_docx(data: bytes) -> None:
    """The archive's directory, and the start of its text (the rest is read by `load`)."""
    archive = _word_archive(data, peek_bytes=DOCX_CHECK_PEEK_BYTES)
    with archive, contextlib.suppress(PeekLimitReached):
        next(wordml.docx_blocks(archive), None)


class _CheckBudgetSpent(BaseException):
    """Raised out of pypdf when a check has read its budget. A BaseException so that pypdf's
    recovery code (`except Exception`) does not take it for damage and try harder."""


class _BudgetedStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.size = len(data)
        self.reads = 0
        self.bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads += 1
        self.bytes_read += self.size - self.tell() if size is None or size < 0 else size
        if self.reads > PDF_CHECK_MAX_READS or self.bytes_read > PDF_CHECK_MAX_BYTES:
            raise _CheckBudgetSpent
        return super().read(size)


def _check_pdf(data: bytes) -> None:
    declared = _declared_page_count(data)
    if declared is not None and declared > MAX_PDF_PAGES:
        raise InvalidDocument(_too_many_pages(declared))
    # Past its budget, a large or damaged file is left to load(), in the background.
    with contextlib.suppress(_CheckBudgetSpent):
        _open_pdf(_BudgetedStream(data))


_PDF_COUNT = re.compile(rb"/Count\s+(\d{1,12})")
_PDF_PAGES_TYPE = re.compile(rb"/Type\s*/Pages\b")


def _declared_page_count(data: bytes) -> int | None:
    """A page count above MAX_PDF_PAGES that a page tree node in the file declares, if any.

    A scan of the bytes at the speed of a search, so that a PDF of 100,000 pages is refused for
    its size before pypdf spends its budget on it. It sees only page trees stored uncompressed;
    those inside object streams are for the budgeted check. /Count also counts outline entries,
    so a candidate counts only inside an object that is a page tree node ("/Type /Pages").
    """
    candidates = 0
    for match in _PDF_COUNT.finditer(data):
        count = int(match.group(1))
        if count <= MAX_PDF_PAGES:
            continue
        candidates += 1
        if candidates > 8:
            return None
        start = data.rfind(b"obj", 0, match.start())
        end = data.find(b"endobj", match.end())
        if start < 0 or end < 0 or data[max(start - 3, 0) : start] == b"end":
            continue
        if _PDF_PAGES_TYPE.search(memoryview(data)[start:end]):
            return count
    return None


def _open_pdf(stream: io.BytesIO) -> PdfReader:
    """A reader for a PDF that is readable, not locked and of at most MAX_PDF_PAGES pages.

    The page count is the page tree's own; counting the pages themselves would walk the whole tree
    (33 s for 100,000 pages), which load() does only for a document within the limit.
    """
    # pypdf signals damage with many exception types (its own, ValueError, KeyError, ...).
    try:
        reader = PdfReader(stream)
        # Files protected only by an owner password (rights to print, copy...) open with "".
        locked = reader.is_encrypted and not reader.decrypt("")
        page_count = 0 if locked else int(reader.trailer["/Root"]["/Pages"]["/Count"])  # type: ignore[index]
    except Exception as exc:
        raise InvalidDocument("The PDF is damaged and cannot be read.") from exc
    if locked:
        raise InvalidDocument(
            "The PDF is password-protected. Remove the password and upload it again."
        )
    if page_count <= 0:
        raise InvalidDocument("The PDF has no pages.")
    if page_count > MAX_PDF_PAGES:
        raise InvalidDocument(_too_many_pages(page_count))
    return reader


def _too_many_pages(count: int) -> str:
    return (
        f"The PDF has {count:,} pages; at most {MAX_PDF_PAGES:,} are indexed. "
        "Split it into smaller documents."
    )


def _load_pdf(data: bytes) -> list[Section]:
    reader = _open_pdf(io.BytesIO(data))
    try:
        page_count = len(reader.pages)
    except Exception as exc:
        raise InvalidDocument("The PDF is damaged and cannot be read.") from exc
    # The page tree's count can lie; the tree itself is what gets read.
    if page_count > MAX_PDF_PAGES:
        raise InvalidDocument(_too_many_pages(page_count))
    sections = []
    paths = _outline_paths(reader)
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text()
        except Exception as exc:
            raise InvalidDocument(
                f"Page {number} of the PDF is damaged and cannot be read."
            ) from exc
        if text := text.strip():
            metadata: dict[str, str | int] = {"kind": PROSE, "page": number}
            if path := _path_on(paths, number):
                metadata["heading_path"] = PATH_SEPARATOR.join(path)
            # an index or a table of contents is navigation, however much of the page it fills
            sections.append(Section(text, metadata, spans=leader_spans(text)))
    return sections


def _outline_paths(reader: PdfReader) -> list[tuple[int, list[str]]]:
    """(first page, titles down to it) of each entry of the PDF's outline (its bookmarks), in
    page order; none when it has no outline or a damaged one."""
    entries: list[tuple[int, list[str]]] = []

    def walk(items: list[Any], path: list[str]) -> None:
        last = path
        for item in items:
            if isinstance(item, list):
                walk(item, last)
                continue
            title = " ".join(str(item.title or "").split())
            page = reader.get_destination_page_number(item)
            if title and page is not None and page >= 0:
                last = [*path, title]
                entries.append((page + 1, last))

    try:
        walk(reader.outline, [])
    except Exception:  # pypdf signals a damaged outline with many exception types
        return []
    return sorted(entries, key=lambda entry: entry[0])


def _path_on(paths: list[tuple[int, list[str]]], page: int) -> list[str]:
    """The outline's titles in force on a page: those of the last entry that starts on it or
    before. Only the heading path: the citation and the embedded text keep the page alone."""
    index = bisect.bisect_right([first for first, _ in paths], page)
    return paths[index - 1][1] if index else []


def _load_docx(data: bytes) -> list[Section]:
    with _word_archive(data) as archive:
        return _group_under_headings(wordml.docx_blocks(archive))


def _load_markdown(data: bytes) -> list[Section]:
    return markdown_sections(_decode_text(data))


# Elements that are never closed, or whose end tag may be left out: they do not nest.
_HTML_UNNESTED = frozenset(
    "area base br col embed hr img input link meta source track wbr p li dt dd tr td th thead "
    "tbody tfoot option optgroup colgroup caption rb rt rp".split()
)
_HTML_TAGS = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(/?)>")


def _check_html(text: str) -> None:
    if len(text) > MAX_HTML_BYTES:
        raise InvalidDocument(
            f"The HTML file is larger than {MAX_HTML_BYTES // (1024 * 1024)} MB of text. "
            "Split it, or save the page as text, and upload it again."
        )
    depth = 0
    for closing, name, self_closing in _HTML_TAGS.findall(text):
        if self_closing or name.lower() in _HTML_UNNESTED:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        if depth > MAX_HTML_DEPTH:
            raise InvalidDocument(
                f"The HTML file nests elements more than {MAX_HTML_DEPTH} deep, more than a "
                "browser shows. Save the page as text and upload it again."
            )


def _load_html(data: bytes) -> list[Section]:
    source = _decode_text(data)
    _check_html(source)
    return markdown_sections(html_markdown(source))


def _load_csv(data: bytes) -> list[Section]:
    text = _decode_text(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:CSV_SNIFF_CHARS], delimiters=_CSV_DELIMITERS
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
        return [Section(", ".join(header), structure(PROSE))]
    # A row is what people ask about ("the codename of 20.04?"): each is a chunk of its own,
    # so a question retrieves its row, not the neighbours packed with it.
    return [Section(_csv_record(header, row), structure(ROW)) for row in records]


def _csv_record(header: list[str], row: list[str]) -> str:
    # Each row repeats the column names, so a chunk holding any row can be understood alone.
    lines = []
    for i, value in enumerate(row):
        name = header[i] if i < len(header) and header[i] else f"column {i + 1}"
        if value.strip():
            lines.append(f"{name}: {value.strip()}")
    return "\n".join(lines)


def qa_document(question: str, answer: str) -> bytes:
    """The stored form of a question/answer pair (kind "qa"), which `load` reads back."""
    return json.dumps({"question": question, "answer": answer}, ensure_ascii=False).encode()


def read_qa(data: bytes) -> tuple[str, str]:
    try:
        pair = json.loads(data)
        return str(pair["question"]), str(pair["answer"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidDocument("The question and answer could not be read.") from exc


def qa_text(question: str, answer: str) -> str:
    return f"{question.strip()}\n\n{answer.strip()}"


def _load_qa(data: bytes) -> list[Section]:
    question, answer = read_qa(data)
    metadata = structure(FAQ, heading=question.strip()[:200], question=question.strip())
    return [Section(qa_text(question, answer), metadata, whole=True)]


def _load_text(data: bytes) -> list[Section]:

    text = _decode_text(data)
    sections = man_page_sections(text)
    return text_sections(text) if sections is None else sections


def _group_under_headings(blocks: Iterable[tuple[str, str | None]]) -> list[Section]:
    """Group (text, heading title or None) blocks into sections; a heading block opens a new one."""
    sections: list[Section] = []
    heading: str | None = None
    texts: list[str] = []

    def close_section() -> None:
        body = "\n\n".join(texts).strip()
        if body:
            sections.append(Section(body, structure(PROSE, [heading] if heading else [])))

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
    "qa": _load_qa,  # not uploaded: added as a pair through the API
}
