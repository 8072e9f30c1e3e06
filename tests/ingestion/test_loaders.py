from __future__ import annotations

import codecs
import io
import subprocess
import zipfile

import pytest

from ingestion import InvalidDocument, Section, UnsupportedDocument, detect_kind, load, validate
from ingestion.archives import MAX_ZIP_MEMBERS
from tests.ingestion.documents import (
    CSV,
    HTML,
    MARKDOWN,
    MULTILINGUAL_TEXT,
    manual_docx,
    owner_locked_pdf,
    zip_with,
)
from tests.samples import encrypted_pdf, make_pdf

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + bytes(64)


@pytest.mark.parametrize(
    ("data", "filename", "kind"),
    [
        (make_pdf(["hello"]), "report.pdf", "pdf"),
        (make_pdf(["hello"]), "upload", "pdf"),
        (manual_docx(), "manual.docx", "docx"),
        (manual_docx(), "manual", "docx"),
        (HTML.encode(), "page.html", "html"),
        (HTML.encode(), "page.txt", "html"),
        (b"<p>Hello</p><div>there</div><a href='x'>link</a>", "snippet", "html"),
        (CSV.encode(), "people.csv", "csv"),
        (CSV.encode(), "people", "csv"),
        (MARKDOWN.encode(), "README.md", "md"),
        (MARKDOWN.encode(), "README", "md"),
        (MARKDOWN.encode(), "notes.txt", "txt"),
        (b"plain words, nothing more", "notes.md", "md"),
        (MULTILINGUAL_TEXT.encode(), "notes.txt", "txt"),
        (MULTILINGUAL_TEXT.encode(), "notes.log", "txt"),
    ],
)
def test_kind_is_detected_from_content_with_extension_deciding_between_text_kinds(
    data: bytes, filename: str, kind: str
) -> None:
    assert detect_kind(data, filename) == kind


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"just some plain text pretending", "report.pdf"),
        (PNG, "photo.txt"),
        (EXE, "setup.txt"),
        (EXE, "setup"),
        (make_pdf(["hello"]), "report.docx"),
        (manual_docx(), "report.pdf"),
        (make_pdf(["hello"]), "report.txt"),
        (zip_with({"xl/workbook.xml": b"<workbook/>"}), "sheet.docx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "old.doc"),
    ],
)
def test_file_whose_content_is_not_what_its_name_claims_is_unsupported(
    data: bytes, filename: str
) -> None:
    with pytest.raises(UnsupportedDocument) as raised:
        detect_kind(data, filename)
    assert filename in raised.value.message


@pytest.mark.parametrize(
    ("data", "filename", "reason"),
    [
        (b"", "empty.txt", "empty"),
        (b"  \n\t ", "blank.txt", "no text"),
        (bytes(range(256)) * 4, "data.txt", "as text"),
        (encrypted_pdf(), "locked.pdf", "password"),
        (make_pdf(["hello"])[:40], "truncated.pdf", "damaged"),
        (b"%PDF-1.7\nthis is not really a pdf at all\n", "fake.pdf", "damaged"),
        (manual_docx()[:300], "broken.docx", "damaged"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    data: bytes, filename: str, reason: str
) -> None:
    with pytest.raises(InvalidDocument) as raised:
        validate(data, filename)
    assert reason in raised.value.message


def test_docx_zip_bomb_is_refused() -> None:
    bomb = zip_with({"word/media/padding.bin": bytes(20 * 1024 * 1024)}, manual_docx())
    with pytest.raises(InvalidDocument) as raised:
        validate(bomb, "bomb.docx")
    assert "zip bomb" in raised.value.message


def test_docx_with_too_many_parts_is_refused() -> None:
    parts = {f"word/extra/part{i}.xml": b"<x/>" for i in range(MAX_ZIP_MEMBERS)}
    swarm = zip_with(parts, manual_docx())
    with pytest.raises(InvalidDocument) as raised:
        validate(swarm, "swarm.docx")
    assert "parts" in raised.value.message


def test_pdf_protected_only_by_an_owner_password_is_readable() -> None:
    pdf = owner_locked_pdf("Open to read, locked to edit")
    assert validate(pdf, "rights.pdf") == "pdf"
    assert load(pdf, "pdf")[0].text == "Open to read, locked to edit"


def test_pdf_gives_one_section_per_page_numbered_from_one_skipping_blank_pages() -> None:
    pdf = make_pdf(["First page (with parens)", "", "Third page"])
    sections = load(pdf, "pdf")
    assert [(s.text, s.metadata) for s in sections] == [
        ("First page (with parens)", {"kind": "prose", "page": 1}),
        ("Third page", {"kind": "prose", "page": 3}),
    ]


def test_pdf_without_any_text_is_refused() -> None:
    with pytest.raises(InvalidDocument) as raised:
        load(make_pdf(["", ""]), "pdf")
    assert "OCR" in raised.value.message


def test_docx_is_split_at_headings_and_keeps_table_text() -> None:
    sections = load(manual_docx(), "docx")
    assert [s.metadata.get("heading") for s in sections] == ["Installation", "Billing"]
    assert {s.metadata["kind"] for s in sections} == {"prose"}
    assert sections[0].text == "Installation\n\nRun the installer and accept the licence."
    assert sections[1].text == "Billing\n\nInvoices are sent monthly.\n\nPlan | Seats\nTeam | 25"


def test_markdown_is_split_at_headings_but_not_inside_code_blocks() -> None:
    sections = load(MARKDOWN.encode(), "md")
    assert [s.metadata.get("heading_path") for s in sections] == [
        None,
        "Getting started",
        "Getting started > Configuration",
        "Billing",
    ]
    assert "# this is a shell comment, not a heading" in sections[1].text
    assert sections[2].text.startswith("Configuration\n")


def test_html_drops_scripts_and_styles_and_splits_at_headings() -> None:
    sections = load(HTML.encode(), "html")
    everything = "\n".join(s.text for s in sections)
    for hidden in ("secretScript", "secret-style", "secret noscript"):
        assert hidden not in everything
    assert [s.metadata.get("heading_path") for s in sections] == [
        None,
        "Shipping",
        "Shipping > Returns",
        "Shipping > Returns > Small print",
    ]
    assert "Welcome to the help centre." in sections[0].text
    assert "We ship worldwide within five days." in sections[1].text
    assert "Returns are free for thirty days.\nKeep the receipt." in sections[2].text
    assert "Plan | Price\nPro | 10 EUR" in sections[2].text
    assert "Stays under Returns." in sections[3].text


def test_csv_rows_are_sections_of_their_own_with_their_column_names() -> None:
    assert [section.text for section in load(CSV.encode(), "csv")] == [
        "name: Alice\ncity: Berlin\nplan: pro",
        "name: Bob\ncity: Paris\nplan: free",
        "name: Carol\nplan: enterprise",
    ]


def test_semicolon_csv_is_sniffed() -> None:
    first, _ = load(b"product;price\nTea;3,50\nCoffee;4,20\n", "csv")
    assert first.text == "product: Tea\nprice: 3,50"


@pytest.mark.parametrize(
    "data",
    [
        MULTILINGUAL_TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + MULTILINGUAL_TEXT.encode("utf-8"),
        MULTILINGUAL_TEXT.encode("utf-16"),
        MULTILINGUAL_TEXT.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "crlf"],
)
def test_text_is_decoded_in_one_section(data: bytes) -> None:
    assert validate(data, "notes.txt") == "txt"
    assert load(data, "txt") == load(MULTILINGUAL_TEXT.encode(), "txt")
    assert load(data, "txt")[0].text == MULTILINGUAL_TEXT.strip()


def test_windows_1252_text_is_decoded() -> None:
    text = "Caf\u00e9 cr\u00e8me \u2013 \u20ac5, \u201cquoted\u201d"
    [section] = load(text.encode("cp1252"), "txt")
    assert section.text == text


_TEXT_AFTER = b"\nplain words that would read as text on their own\n" * 50


@pytest.mark.parametrize(
    ("magic", "what"),
    [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff\xe0", "a JPEG image"),
        (b"GIF89a", "a GIF image"),
        (b"\x7fELF", "a Linux program"),
        (b"\x1f\x8b\x08", "a gzip archive"),
        (b"Rar!\x1a\x07\x00", "a RAR archive"),
        (b"SQLite format 3\x00", "an SQLite database"),
    ],
)
@pytest.mark.parametrize("filename", ["notes.txt", "README.md", "people.csv", "upload"])
def test_binary_signature_is_refused_even_when_the_rest_reads_as_text(
    magic: bytes, what: str, filename: str
) -> None:
    with pytest.raises(UnsupportedDocument) as raised:
        validate(magic + _TEXT_AFTER, filename)
    assert what in raised.value.message and filename in raised.value.message


def test_zip_archive_that_is_not_a_word_document_is_refused_even_if_it_stores_text() -> None:
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("notes.txt", "plain words " * 200)
    with pytest.raises(UnsupportedDocument) as raised:
        validate(stored.getvalue(), "notes.txt")
    assert "a zip archive" in raised.value.message


def test_pdf_named_as_text_is_judged_as_a_pdf() -> None:
    with pytest.raises(UnsupportedDocument) as raised:
        validate(make_pdf(["hello"]), "notes.txt")
    assert "a PDF" in raised.value.message


@pytest.mark.parametrize(
    "data",
    [
        b"text with a NUL\x00 in the middle " * 20,
        "UTF-16 without a byte order mark".encode("utf-16-le"),
    ],
    ids=["nul", "utf-16-without-bom"],
)
def test_text_with_nul_bytes_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidDocument) as raised:
        validate(data, "notes.txt")
    assert "as text" in raised.value.message


def test_text_that_merely_starts_with_mz_is_text() -> None:
    assert validate(b"MZ-200 pump manual: replace the filter every month.", "notes.txt") == "txt"


RENDERED_MAN_PAGE = """\
PACK(1)                        User Commands                       PACK(1)

NAME
       pack - put files into an archive

OPTIONS
   Operation mode
       -c, --create
              Create a new archive.  Directories are archived
              recursively.

       -t, --list
              List the contents of an archive.

       -L port:host
       -L socket:host
              Forward a port or a socket.

   Compression
       -z, --gzip
              Filter the archive through gzip.
              -z1 ... -z9 set the level.

SEE ALSO
       tar(1)

pack 1.0                          2024-01-01                       PACK(1)
"""


def test_rendered_man_page_is_one_section_per_option_under_its_heading():
    sections = load(RENDERED_MAN_PAGE.encode(), "txt")
    by_start = {s.text.split("\n")[0]: s for s in sections}
    assert by_start["-t, --list"].text == "-t, --list\n       List the contents of an archive."
    assert by_start["-t, --list"].metadata == {
        "kind": "option",
        "option": "-t, --list",
        "heading": "OPTIONS / Operation mode",
        "heading_path": "OPTIONS > Operation mode",
    }
    assert by_start["-z, --gzip"].metadata["heading"] == "OPTIONS / Compression"
    assert "-z1 ... -z9" in by_start["-z, --gzip"].text  # deeper lines stay with their option
    assert by_start["pack - put files into an archive"].metadata["kind"] == "prose"
    assert by_start["tar(1)"].metadata["kind"] == "navigation"
    assert by_start["-L port:host"].metadata["option"] == "-L port:host, -L socket:host"
    assert by_start["-L port:host"].text.endswith(
        "-L socket:host\n       Forward a port or a socket."
    )
    assert len(sections) == 6


def test_man_page_saved_through_col_b_with_tabs_is_cut_as_the_same_sections():
    # `man tar | col -b > tar.txt`, the classic recipe: col writes runs of spaces as tabs
    tabbed = subprocess.run(
        ["col", "-b"], input=RENDERED_MAN_PAGE.encode(), capture_output=True, check=True
    ).stdout
    assert b"\t" in tabbed

    assert load(tabbed, "txt") == load(RENDERED_MAN_PAGE.encode(), "txt")


def test_plain_text_that_is_not_a_man_page_stays_one_section():
    text = "OPTIONS\n       -t, --list\n              not a manual without its header line\n"
    assert load(text.encode(), "txt") == [Section(text.strip(), {"kind": "prose"})]
