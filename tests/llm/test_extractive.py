"""The extractive answerer on real documents: man pages in English, French, German and Japanese
as `man -l` renders them, the MPL 2.0, Ubuntu's release table, an HTML book and two FAQs that
Debian ships, cut into chunks by the product's own loaders and splitter."""

from __future__ import annotations

import csv
import functools
import io
import re

import pytest

from app.llm import Completion, ContextChunk, LLMRequest
from app.llm.extractive import NOT_FOUND, ExtractiveProvider
from app.llm.extractive.passages import passages
from ingestion.loaders import load
from ingestion.splitter import split
from tests.samples import man_page, shipped_file

MAN = "/usr/share/man"


@functools.cache
def chunks(path: str, kind: str = "txt") -> list[str]:
    """The document's chunks, as the upload pipeline cuts them (1000 characters, 150 overlap)."""
    data = man_page(path) if path.startswith(MAN) else shipped_file(path)
    return [
        chunk.text
        for chunk in split(
            load(data, kind),
            chunk_size=1000,
            chunk_overlap=150,
            count_tokens=lambda text: len(text.split()) + 2,
            max_tokens=512,
        )
    ]


def chunk_with(path: str, marker: str, kind: str = "txt") -> ContextChunk:
    text = next(text for text in chunks(path, kind) if marker in text)
    return ContextChunk(text, path.rsplit("/", 1)[-1], 0.8)


TAR = f"{MAN}/man1/tar.1.gz"
XZ = {"en": f"{MAN}/man1/xz.1.gz", "fr": f"{MAN}/fr/man1/xz.1.gz", "de": f"{MAN}/de/man1/xz.1.gz"}
MPL = "/usr/share/common-licenses/MPL-2.0"
UBUNTU = "/usr/share/distro-info/ubuntu.csv"
USERS_AND_GROUPS = "/usr/share/doc/base-passwd/users-and-groups.html"
XZ_FAQ = "/usr/share/doc/xz-utils/faq.txt.gz"
BASE_FILES_FAQ = "/usr/share/doc/base-files/FAQ"


def count_characters(text: str) -> int:
    return len(text)


def ask(question: str, context: list[ContextChunk]) -> LLMRequest:
    return LLMRequest(
        messages=[
            {"role": "system", "content": "Answer from the context."},
            {"role": "user", "content": question},
        ],
        model="unused",
        temperature=0.0,
        max_tokens=100,
        question=question,
        context=context,
    )


def answer(question: str, context: list[ContextChunk]) -> str:
    text = ExtractiveProvider(count_characters).complete(ask(question, context)).text
    assert "According to" not in text
    return text


# --- the two examples of issue 12 ---------------------------------------------------------


def test_which_option_question_is_answered_by_the_option_line_and_its_description() -> None:
    # retrieval ranked --force-local first; the answer is in the second chunk
    context = [chunk_with(TAR, m) for m in ("--force-local", "-t, --list", "--listed-incremental")]
    assert "-t, --list" not in context[0].text

    text = answer("Which tar option lists the contents of an archive?", context)

    assert text == "-t, --list: List the contents of an archive [2]."


def test_table_row_is_the_one_with_the_exact_version_of_the_question() -> None:
    # a CSV row is a chunk of its own; the neighbouring release ranked first
    context = [
        chunk_with(UBUNTU, "version: 20.10\n", "csv"),
        chunk_with(UBUNTU, "version: 20.04 LTS\n", "csv"),
    ]

    text = answer("Codename of Ubuntu 20.04?", context)

    assert text == "version: 20.04 LTS; codename: Focal Fossa [2]."


def ubuntu_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(shipped_file(UBUNTU).decode())))


def test_markdown_table_row_is_found_under_its_header() -> None:
    header, *rows = ubuntu_rows()
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(row)} |" for row in rows if row[0].startswith("2")]
    context = [ContextChunk("\n".join(lines), "ubuntu.md", 0.8)]

    text = answer("Codename of Ubuntu 20.04?", context)

    assert text == "version: 20.04 LTS; codename: Focal Fossa [1]."


def one_line_rows(first: str, last: str) -> ContextChunk:
    """The rows from version `first` to `last`, a row a line with its fields separated by |."""
    header, *rows = ubuntu_rows()
    versions = [row[0] for row in rows]
    picked = rows[versions.index(first) : versions.index(last) + 1]
    lines = [
        " | ".join(f"{k}: {v}" for k, v in zip(header, row, strict=False) if v) for row in picked
    ]
    return ContextChunk("\n\n".join(lines), "ubuntu.csv", 0.8)


def test_one_line_table_row_is_found_by_its_exact_version() -> None:
    context = [one_line_rows("19.10", "21.04")]

    text = answer("When was Ubuntu 20.04 released?", context)

    assert text == "version: 20.04 LTS; release: 2020-04-23 [1]."


def test_no_row_with_the_version_of_the_question_is_not_found_rather_than_a_neighbour() -> None:
    context = [one_line_rows("20.10", "22.04 LTS")]

    assert answer("When was Ubuntu 20.04 released?", context) == NOT_FOUND


def test_table_row_shows_the_fields_the_question_asks_for() -> None:
    context = [chunk_with(UBUNTU, "version: 22.04 LTS", "csv")]

    text = answer("When was Ubuntu 22.04 released?", context)

    assert text == "version: 22.04 LTS; release: 2022-04-21 [1]."


# --- sentence boundaries --------------------------------------------------------------------


def test_licence_sentence_is_not_cut_at_the_abbreviation_of_version() -> None:
    context = [chunk_with(MPL, "You can obtain one at")]

    text = answer("Under the terms of which licence is this Source Code Form?", context)

    assert text.startswith(
        "This Source Code Form is subject to the terms of the Mozilla Public License, v. 2.0 [1]."
    )


def test_url_and_version_number_stay_inside_their_sentences() -> None:
    context = [chunk_with(MPL, "You can obtain one at")]

    text = answer("Where can I obtain a copy of the MPL if it was not distributed?", context)

    assert text == (
        "If a copy of the MPL was not distributed with this file, You can obtain one at "
        "http://mozilla.org/MPL/2.0/ [1]."
    )


def test_french_abbreviation_does_not_end_the_option_description() -> None:
    context = [chunk_with(f"{MAN}/fr/man1/vim.1.gz", "mode Arabe")]

    text = answer("Quelle option lance Vim en mode arabe ?", context)

    assert text.startswith("-A: Si Vim a été compilé avec le support de la fonctionnalité ARABIC")
    assert text.endswith(
        "cette option lance Vim en mode Arabe, c.-à-d. que l'option 'arabic' est activée [1]."
    )


def test_german_abbreviation_and_ellipsis_stay_inside_the_sentence() -> None:
    context = [chunk_with(f"{MAN}/de/man1/vim.1.gz", "Erweiterungen gegen")]

    text = answer("Welche Erweiterungen hat Vim gegenüber Vi?", context)

    assert text.startswith(
        "Vim hat einige Erweiterungen gegenüber Vi, z.B.: Rückgängigmachen in mehreren Schritten,"
    )
    assert "visuelle Auswahl, usw. …" in text


def test_japanese_sentences_end_at_the_ideographic_full_stop() -> None:
    context = [chunk_with(f"{MAN}/ja/man1/chsh.1.gz", "一般ユーザは")]

    text = answer("一般ユーザはどのログインシェルを変更できますか？", context)

    assert text.startswith("一般ユーザは自分のアカウントのログインシェルのみを変更できる[1]。")


def test_wrapped_and_hyphenated_man_page_lines_are_joined() -> None:
    # groff hyphenates "Dekompres‐sion" across the line end
    context = [chunk_with(XZ["de"], "-k, --keep\n")]

    text = answer("Seit welcher xz-Version wird auch bei symbolischen Links komprimiert?", context)

    assert text.startswith(
        "Seit der xz-Version 5.2.6 wird die Kompression oder Dekompression auch dann ausgeführt,"
    )


def test_a_dot_that_is_a_word_keeps_its_place_before_the_citation() -> None:
    context = [chunk_with(f"{MAN}/man1/ls.1.gz", "-a, --all")]

    text = answer("Which ls option does not ignore entries starting with a dot?", context)

    assert text == "-a, --all: do not ignore entries starting with . [1]."


def test_the_option_whose_quoted_line_matches_wins_over_one_whose_later_text_does() -> None:
    # -c's description goes on about "several input files"; -k's quoted line keeps input files
    gzip = f"{MAN}/man1/gzip.1.gz"
    context = [chunk_with(gzip, "-c --stdout"), chunk_with(gzip, "-k --keep")]

    text = answer("Which gzip option keeps the input files?", context)

    assert (
        text
        == "-k --keep: Keep (don't delete) input files during compression or decompression [2]."
    )


SSH = f"{MAN}/man1/ssh.1.gz"
SED = f"{MAN}/man1/sed.1.gz"
GREP = f"{MAN}/man1/grep.1.gz"


@pytest.mark.parametrize(
    ("question", "marker", "expected"),
    [
        # an argument in lower case: taken as one because the description is indented under it
        (
            "Which ssh option selects the identity file with the private key?",
            "-i identity_file\n",
            "-i identity_file: Selects a file from which the identity (private key) for public "
            "key authentication is read [1].",
        ),
        # several forms of one option stacked over its description
        (
            "How do I forward a local port to a remote host with ssh?",
            "-L [bind_address:]port:host:hostport",
            "-L [bind_address:]port:host:hostport, -L [bind_address:]port:remote_socket, "
            "-L local_socket:host:hostport, -L local_socket:remote_socket: Specifies that "
            "connections to the given TCP port or Unix socket on the local (client) host are to "
            "be forwarded to the given host and port, or Unix socket, on the remote side [1].",
        ),
        # a blank line between the option line and its description
        (
            "How do I use extended regular expressions in a sed script?",
            "--regexp-extended\n",
            "-E, -r, --regexp-extended: use extended regular expressions in the script (for "
            "portability use POSIX -E) [1].",
        ),
    ],
)
def test_option_line_in_the_layouts_man_pages_use_is_quoted_with_its_description(
    question: str, marker: str, expected: str
) -> None:
    text = answer(question, [chunk_with(SSH if "ssh" in question else SED, marker)])

    assert text == expected


def test_retrievals_clear_preference_between_chunks_decides_a_near_tie_of_words() -> None:
    # -c and -m both share "count" and "matching lines" with the question; retrieval, which
    # compares meanings, put -c well ahead (the product's context and scores for this question)
    ranked = [
        ("-c, --count\n", 1.0),
        ("-v, --invert-match\n", 0.717),
        ("-m NUM, --max-count=NUM\n", 0.655),
        ("print lines that match patterns", 0.572),
        ("-f FILE, --file=FILE\n", 0.564),
    ]
    context = [ContextChunk(chunk_with(GREP, m).text, "grep.1", score) for m, score in ranked]

    text = answer("How do I count the matching lines with grep?", context)

    assert text.startswith("-c, --count: Suppress normal output; instead print a count")


def test_retrieval_scores_that_barely_differ_leave_the_choice_to_the_words() -> None:
    # the same two chunks, the better match second and scored a hundredth lower
    context = [
        ContextChunk(chunk_with(GREP, "-m NUM, --max-count=NUM").text, "grep.1", 0.86),
        ContextChunk(chunk_with(GREP, "-c, --count").text, "grep.1", 0.85),
    ]

    text = answer("Which grep option prints a count of matching lines?", context)

    assert text == (
        "-c, --count: Suppress normal output; instead print a count of matching lines for each "
        "input file [2]."
    )


def test_what_is_question_is_answered_by_the_definition_that_quotes_the_term() -> None:
    # "3.3. Distribution of a Larger Work" is a section title; the definition is in section 1
    context = [chunk_with(MPL, "3.3. Distribution of a Larger Work"), chunk_with(MPL, "1.7.")]

    text = answer("What is a Larger Work under the MPL 2.0?", context)

    assert text.startswith('1.7. "Larger Work" means a work that combines Covered Software')


# --- other kinds of documents -----------------------------------------------------------------


def test_faq_question_is_answered_with_its_answer() -> None:
    context = [chunk_with(XZ_FAQ, "What do the letters XZ mean?")]

    text = answer("What do the letters XZ mean?", context)

    assert text == (
        "Nothing. They are just two letters, which come from the file format suffix .xz. "
        "The .xz suffix was selected, because it seemed to be pretty much unused. "
        "It has no deeper meaning [1]."
    )


def test_faq_answer_is_that_of_the_closest_question_not_of_the_wordiest() -> None:
    context = [ContextChunk(text, "FAQ", 0.8) for text in chunks(BASE_FILES_FAQ)[:3]]

    text = answer('Why "trixie/sid" and not "testing/unstable"?', context)

    assert text.startswith("The codename is a little bit more informative")


def test_html_definition_list_answers_with_the_definition_of_the_term() -> None:
    context = [chunk_with(USERS_AND_GROUPS, "superuser", "html")]

    assert answer("Who is the root user?", context) == "Root is (typically) the superuser [1]."


# --- language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which xz option keeps the input files?", "-k, --keep: Don't delete the input files [1]."),
        (
            "Quelle option de xz conserve les fichiers d'entrée ?",
            "-k, --keep: Ne pas effacer les fichiers d'entrée [2].",
        ),
        (
            "Welche Option von xz behält die Eingabedateien?",
            "-k, --keep: verhindert das Löschen der Eingabedateien [3].",
        ),
    ],
)
def test_answers_in_the_language_of_the_question_when_a_document_has_it(
    question: str, expected: str
) -> None:
    context = [chunk_with(XZ[language], "-k, --keep\n") for language in ("en", "fr", "de")]

    assert answer(question, context) == expected


def test_a_question_in_another_language_than_the_documents_still_finds_its_answer() -> None:
    context = [chunk_with(TAR, m) for m in ("--force-local", "-t, --list")]

    text = answer("Quelle option de tar liste le contenu d'une archive ?", context)

    assert text == "-t, --list: List the contents of an archive [2]."


# --- citations, duplicates, not found -------------------------------------------------------


def test_option_answer_cites_the_source_it_comes_from() -> None:
    context = [chunk_with(XZ["en"], "-k, --keep\n"), chunk_with(XZ["en"], "-c, --stdout")]

    text = answer("Which xz option writes to standard output and keeps the input files?", context)

    assert text.startswith("-c, --stdout, --to-stdout: Write the compressed or decompressed data")
    assert re.findall(r"\[\d\]", text) == ["[2]"]


def test_sentence_repeated_by_overlapping_chunks_is_quoted_once() -> None:
    # the splitter repeats the definition at the end of one chunk and the start of the next
    definition = '1.13. "Source Code Form"\n    means the form of the work preferred'
    context = [ContextChunk(text, "MPL-2.0", 0.8) for text in chunks(MPL) if definition in text]
    assert len(context) == 2

    text = answer("What is the Source Code Form?", context)

    assert text == (
        '1.13. "Source Code Form" means the form of the work preferred for making '
        "modifications [1]."
    )


def test_option_repeated_by_overlapping_chunks_is_quoted_once() -> None:
    # man pages are split one option per chunk; a larger chunk holding the next option too (as
    # another chatbot's chunk size makes it) repeats this one
    texts = chunks(XZ["fr"])
    at = next(i for i, t in enumerate(texts) if "-k, --keep\n" in t)
    context = [
        ContextChunk(texts[at], "xz.1", 0.8),
        ContextChunk(f"{texts[at]}\n\n{texts[at + 1]}", "xz.1", 0.8),
    ]

    text = answer("Quelle option de xz conserve les fichiers d'entrée ?", context)

    assert text == "-k, --keep: Ne pas effacer les fichiers d'entrée [1]."


def test_html_term_repeated_by_overlapping_chunks_is_quoted_once() -> None:
    texts = chunks(USERS_AND_GROUPS, "html")
    context = [
        ContextChunk(text, "Users and Groups in the Debian System", 0.8)
        for text in texts
        if "Postgresql databases are owned" in text
    ]
    assert len(context) == 2

    text = answer("Who owns the Postgresql databases?", context)

    assert text == "Postgresql databases are owned by this user and group [1]."


def test_answer_of_two_sentences_from_one_passage_keeps_their_order() -> None:
    context = [chunk_with(BASE_FILES_FAQ, "how do I know which distribution")]

    text = answer("How do I know which distribution I'm running?", context)

    assert text.index("/etc/debian_version") < text.index("sources.list")
    assert text.endswith("[1].")


def test_without_any_shared_content_word_nothing_is_found() -> None:
    context = [chunk_with(XZ_FAQ, "What do the letters XZ mean?"), chunk_with(TAR, "-t, --list")]

    assert answer("Как дела?", context) == NOT_FOUND
    assert answer("What is it, and how?", context) == NOT_FOUND


def test_empty_context_answers_politely_that_nothing_was_found() -> None:
    assert answer("What pressure does the pump run at?", []) == NOT_FOUND


# --- the provider ---------------------------------------------------------------------------------


def test_no_llm_runs_so_no_tokens_are_billed() -> None:
    request = ask("What do the letters XZ mean?", [chunk_with(XZ_FAQ, "letters XZ")])
    provider = ExtractiveProvider(count_characters)

    completion = provider.complete(request)

    assert completion.text.startswith("Nothing.")
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (0, 0)
    assert (completion.model, completion.provider) == ("extractive", "extractive")
    assert provider.billed is False


def test_stream_yields_word_groups_that_join_to_the_text_then_the_completion() -> None:
    request = ask("What do the letters XZ mean?", [chunk_with(XZ_FAQ, "letters XZ")])

    *deltas, completion = ExtractiveProvider(count_characters).stream(request)

    assert isinstance(completion, Completion)
    assert len(deltas) > 1
    assert all(isinstance(delta, str) and len(delta.split()) <= 4 for delta in deltas)
    assert "".join(deltas) == completion.text  # type: ignore[arg-type]


# --- what an answer keeps whole (issue 23) ---------------------------------------------------

REDIS_README = "/usr/share/doc/redis-server/README.md.gz"
LIBTASN1_PDF = "/usr/share/doc/libtasn1-doc/libtasn1.pdf"


def test_sentence_is_not_cut_inside_its_parenthesis_and_keeps_the_command_it_introduces() -> None:
    context = [chunk_with(REDIS_README, "To build with TLS support", "md")]

    text = answer("How do I build Redis with TLS support?", context)

    assert text == (
        "To build with TLS support, you'll need OpenSSL development libraries (e.g. libssl-dev "
        "on Debian/Ubuntu) and run: % make BUILD_TLS=yes [1]."
    )


def test_example_a_colon_introduces_is_quoted_with_its_sentence() -> None:
    context = [chunk_with(f"{MAN}/man1/chage.1.gz", "180 days")]

    text = answer("How do I set the date on which an account expires with chage?", context)

    assert "expire in 180 days: chage -E $(date -d +180days +%Y-%m-%d) [1]." in text


def test_table_of_contents_lines_are_never_quoted() -> None:
    contents = next(t for t in chunks(LIBTASN1_PDF, "pdf") if "Table of Contents" in t)
    context = [ContextChunk(contents, "libtasn1.pdf", 0.9)]

    text = answer("Which ASN.1 syntax and naming does libtasn1 handle?", context)

    assert text == NOT_FOUND
    assert ". . ." not in text


@pytest.mark.parametrize("line", ["#", "###", "   #   "])
def test_a_markdown_line_of_hashes_alone_is_no_passage_and_no_failure(line: str) -> None:
    context = [ContextChunk(f"Intro line\n{line}\n\nRun make install to install it.", "a.md", 0.9)]

    assert answer("How do I install it?", context) == "Run make install to install it [1]."


VALGRIND_FAQ = "/usr/share/doc/valgrind/html/faq.html"
EXPAT_REFERENCE = "/usr/share/doc/libexpat1-dev/expat.html/reference.html"


def test_a_faqs_list_of_questions_answers_none_of_them() -> None:
    """The FAQ's table of contents repeats the question; quoting it back answers nothing."""
    context = [chunk_with(VALGRIND_FAQ, "5.4. Is it possible to attach Valgrind", "html")]

    text = answer("Can I attach Valgrind to a program that is already running?", context)

    assert text == NOT_FOUND


def test_a_heading_is_no_passage_but_the_topic_of_those_under_it() -> None:
    text = "\n\n".join(section.text for section in load(shipped_file(EXPAT_REFERENCE), "html"))
    at = text.index("Temporarily Stopping Parsing")

    found = passages(text[at - 300 : at + 600], "en")

    assert not any("Temporarily Stopping Parsing" in p.shown for p in found)
    [first] = [p for p in found if p.shown.startswith("Expat 1.95.8 introduces a new feature")]
    assert first.topic == "Temporarily Stopping Parsing"


MAN_DB_FAQ = "/usr/share/doc/man-db/FAQ"


@pytest.mark.parametrize(
    ("path", "marker", "kind", "question", "fact"),
    [
        (
            REDIS_README,
            "In order to install Redis binaries",
            "md",
            "¿Cómo instalo Redis en un directorio distinto de /usr/local/bin?",
            "You can use `make PREFIX=/some/other/directory install`",
        ),
        (
            MAN_DB_FAQ,
            "catgets",
            "txt",
            "Quel système de traduction man-db utilise-t-il pour ses messages ?",
            "man-db uses gettext, which is more correct and robust [1].",
        ),
    ],
)
def test_a_short_best_sentence_is_quoted_with_the_next_that_completes_it(
    path: str, marker: str, kind: str, question: str, fact: str
) -> None:
    text = answer(question, [chunk_with(path, marker, kind)])

    assert fact in text
