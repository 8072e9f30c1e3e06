"""The extractive answerer, by the properties every answer must have, on documents the project
ships (tests/llm/fixtures, see its README) cut by the product's own loaders and splitter.

Each property is a checker (`assert_…`) run over every question of `CASES`; each checker is
itself tried on a made-up answer that breaks its rule, so that it is known to fail."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.llm import Completion, ContextChunk, LLMRequest, Structure
from app.llm.extractive import NOT_FOUND, ExtractiveProvider
from app.llm.function_words import FUNCTION_WORDS, folded
from ingestion.loaders import load
from ingestion.splitter import split

FIXTURES = Path(__file__).parent / "fixtures"
DOCUMENTS = sorted(p.name for p in FIXTURES.iterdir() if p.name != "README.md")
CONTEXT_SIZE = 4  # the chunks an answer is built from, as a chatbot's top_k hands them over


@functools.cache
def chunks(name: str) -> tuple[ContextChunk, ...]:
    """The document's chunks as the upload pipeline cuts them (1000 characters, 150 overlap),
    with the structure ingestion recorded."""
    sections = load((FIXTURES / name).read_bytes(), name.rsplit(".", 1)[-1])
    return tuple(
        ContextChunk(chunk.text, name, 1.0, structure=Structure.of(chunk.metadata))
        for chunk in split(
            sections,
            chunk_size=1000,
            chunk_overlap=150,
            count_tokens=lambda text: len(text.split()) + 2,
            max_tokens=512,
        )
    )


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", folded(text)) if len(w) > 2} - FUNCTION_WORDS


def retrieved(case: Case) -> list[ContextChunk]:
    """Retrieval's stand-in: the chunks of every shipped document sharing most words with the
    question, best first, with falling scores; the chunk holding the fact is among them (at the
    case's rank, if it has one)."""
    asked = _words(case.question)
    pool = [c for name in DOCUMENTS for c in chunks(name)]
    ranked = sorted(pool, key=lambda c: len(asked & _words(c.text)), reverse=True)
    context = ranked[:CONTEXT_SIZE]
    holding = next(c for c in pool if _holds(c, case.fact, case.document))
    if case.rank is not None:
        context = [c for c in context if c is not holding]
        context.insert(case.rank - 1, holding)
        context = context[:CONTEXT_SIZE]
    elif not any(_holds(c, case.fact, case.document) for c in context):
        context[-1] = holding
    return [
        ContextChunk(c.text, c.label, 1.0 - 0.05 * i, structure=c.structure)
        for i, c in enumerate(context)
    ]


def _holds(chunk: ContextChunk, fact: str, document: str) -> bool:
    return chunk.label == document and _flat(fact) in _flat(chunk.text)


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def _unbulleted(text: str) -> str:
    """The text without its list items' bullets, which an answer quoting the list leaves out."""
    return _BULLETS.sub("", text)


def answer(question: str, context: list[ContextChunk]) -> str:
    request = LLMRequest(
        messages=[{"role": "user", "content": question}],
        model="unused",
        temperature=0.0,
        max_tokens=100,
        question=question,
        context=context,
    )
    return ExtractiveProvider(len).complete(request).text


@dataclass(frozen=True)
class Case:
    question: str
    document: str
    fact: str  # what the answer must hold, as the document has it
    # where retrieval puts the chunk holding the fact, when the stand-in's shared words cannot
    # (a question in another language than its document)
    rank: int | None = None
    # an answer known to miss the fact, and why (the other properties still hold)
    miss: str = ""


CASES = [
    Case("What do the letters XZ mean?", "xz-faq.txt", "just two letters"),
    Case("Do XZ Utils support the .7z format?", "xz-faq.txt", "Use 7-Zip (Windows) or p7zip"),
    Case("Is zlib Y2K-compliant?", "zlib-FAQ.txt", "zlib doesn't handle dates"),
    Case("How do I build Redis with TLS support?", "redis-README.md", "make BUILD_TLS=yes"),
    Case(
        "After a git pull my Redis build fails in its dependencies. What should I run?",
        "redis-README.md",
        "make distclean",
    ),
    Case(
        "Which memory allocator does Redis use by default on Linux?",
        "redis-README.md",
        "jemalloc being the default on Linux",
    ),
    Case(
        "¿Cómo instalo Redis en un directorio distinto de /usr/local/bin?",
        "redis-README.md",
        "make PREFIX=/some/other/directory install",
    ),
    Case(
        "How do I stop parsing from inside an Expat handler?",
        "expat-reference.html",
        "XML_StopParser",
        miss="the sentence that introduces the feature shares more words with the question than "
        "the one that says how ('To stop parsing from a handler function, use XML_StopParser')",
    ),
    Case(
        "How do I link my program with the Expat library on Unix?",
        "expat-reference.html",
        "-lexpat",
    ),
    Case(
        "What is the default maximum amplification factor of the billion laughs protection?",
        "expat-reference.html",
        "100.0",
    ),
    Case("Codename of Ubuntu 20.04?", "ubuntu.csv", "Focal Fossa"),
    Case("Which xz option keeps the input files?", "xz.1.txt", "-k, --keep"),
    Case("Quelle option de xz écrit sur la sortie standard ?", "xz.1.txt", "-c, --stdout", 1),
]


def case_id(case: Case) -> str:
    return case.question[:40]


@functools.cache
def answered(case: Case) -> tuple[list[ContextChunk], str]:
    context = retrieved(case)
    return context, answer(case.question, context)


# --- the checkers: one property each -------------------------------------------------------------

_UNIT = re.compile(r"(.+?) \[(\d+)\]([.!?。！？…]*[\"'”»)\]]*)(?:\s+|$)", re.S)
_DOT_LEADER = re.compile(r"(?:\.\s?){5,}")
_BULLETS = re.compile(r"(?m)^\s*[-*•]\s+")
_LINE_END = re.compile(r"[ \t]*\n")
_LIST_AFTER = re.compile(r"[ \t]*\n\s*(?:[-*•]|\d+[.)])\s")


def units(text: str) -> list[tuple[str, int, str]]:
    """The answer's quoted units: (the text, the source number it cites, its final punctuation)."""
    found = [(m.group(1), int(m.group(2)), m.group(3)) for m in _UNIT.finditer(text)]
    assert found, f"no cited passage in {text!r}"
    assert "".join(m.group(0) for m in _UNIT.finditer(text)).strip() == text.strip(), (
        f"text outside any cited passage in {text!r}"
    )
    return found


def _pieces(quoted: str) -> list[str]:
    """What the answerer joined into one unit: an option's flags and description, a row's
    fields, a list's items."""
    return [p for p in re.split(r"(?<=\S)[:;] ", quoted) if p.strip()]


def assert_holds_the_fact(text: str, case: Case) -> None:
    assert _flat(case.fact) in _flat(text), f"{case.fact!r} not in {text!r}"


def assert_cites_the_fact_source(text: str, context: list[ContextChunk], case: Case) -> None:
    cited = {number for _, number, _ in units(text)}
    holding = {n for n, c in enumerate(context, 1) if _holds(c, case.fact, case.document)}
    assert cited & holding, f"{text!r} cites {cited}, the fact is in {holding}"


def assert_quotes_only_what_it_cites(text: str, context: list[ContextChunk]) -> None:
    """Every [n] follows words of passage n, and only of it: no other document is quoted under
    the number."""
    for quoted, number, _ in units(text):
        assert 1 <= number <= len(context), f"[{number}] is no source"
        source = _flat(_unbulleted(context[number - 1].text))
        for piece in _pieces(quoted):
            assert _flat(piece) in source, f"{piece!r} is not in source [{number}]"


def assert_no_navigation(text: str, context: list[ContextChunk]) -> None:
    """No index, table of contents or list of links is quoted."""
    assert not _DOT_LEADER.search(text), f"dot leaders in {text!r}"
    for quoted, number, _ in units(text):
        assert context[number - 1].structure.kind != "navigation", f"{quoted!r} is navigation"
        assert not re.search(r"\]\(#?[^)]*\)", quoted), f"a link list in {quoted!r}"


def assert_whole_sentences(text: str, context: list[ContextChunk]) -> None:
    """No unit ends mid-sentence, inside a parenthesis or before what it introduces (a colon's
    command, a list): where the document goes on after the quoted words, it goes on with the
    punctuation the answer shows, or after a line's end (a command, an option's description)
    that no list follows."""
    for quoted, number, end in units(text):
        assert quoted.count("(") <= quoted.count(")"), f"open parenthesis in {quoted!r}"
        assert not quoted.rstrip().endswith(":"), f"{quoted!r} stops before its colon's list"
        tail = _pieces(quoted)[-1].casefold().split()
        source = _unbulleted(context[number - 1].text).casefold()
        found = re.search(r"\s+".join(map(re.escape, tail)), source)
        assert found, f"{' '.join(tail)!r} is not in source [{number}]"
        after = source[found.end() :]
        raw = re.search(r"\s+".join(map(re.escape, tail)), context[number - 1].text.casefold())
        before_list = raw and _LIST_AFTER.match(context[number - 1].text.casefold()[raw.end() :])
        assert not before_list, f"{quoted!r} stops before its list"
        goes_on = after.strip()
        assert not goes_on or end and after.startswith(end) or _LINE_END.match(after), (
            f"{quoted!r} ends mid-sentence (the document goes on with {goes_on[:30]!r})"
        )


# --- the properties, on every case ---------------------------------------------------------------


# a known miss is still run: it must fail (strict), so that a fix shows
FACT_CASES = [
    pytest.param(case, marks=pytest.mark.xfail(reason=case.miss, strict=True))
    if case.miss
    else case
    for case in CASES
]


@pytest.mark.parametrize("case", FACT_CASES, ids=case_id)
def test_answer_holds_the_expected_fact(case: Case) -> None:
    _, text = answered(case)
    assert_holds_the_fact(text, case)


@pytest.mark.parametrize("case", FACT_CASES, ids=case_id)
def test_answer_cites_the_source_that_holds_the_fact(case: Case) -> None:
    context, text = answered(case)
    assert_cites_the_fact_source(text, context, case)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_answer_quotes_under_each_number_only_that_source(case: Case) -> None:
    context, text = answered(case)
    assert_quotes_only_what_it_cites(text, context)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_answer_is_never_an_index_a_contents_or_a_link_line(case: Case) -> None:
    context, text = answered(case)
    assert_no_navigation(text, context)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_answer_never_ends_mid_sentence(case: Case) -> None:
    context, text = answered(case)
    assert_whole_sentences(text, context)


def test_faq_answers_with_its_answer_not_its_question() -> None:
    case = CASES[0]
    context, text = answered(case)
    assert "letters XZ mean" not in text
    assert_holds_the_fact(text, case)


def test_a_table_of_contents_first_in_the_context_is_not_quoted() -> None:
    contents = [c for c in chunks("expat-reference.html") if "XML_StopParser" in c.text][0]
    assert "Temporarily Stopping Parsing" not in contents.text or "#" in contents.text
    context = [contents, *retrieved(CASES[7])]

    text = answer(CASES[7].question, context)

    assert_no_navigation(text, context)
    assert not text.startswith("[") and "[1]" not in text


def test_a_chunk_ingestion_marked_as_navigation_is_never_quoted() -> None:
    """A contents page whose lines read like sentences: only ingestion's mark tells."""
    contents = ContextChunk(
        "Stopping parsing from a handler function with XML_StopParser.\n"
        "Resuming parsing after a stop with XML_ResumeParser.",
        "expat-reference.html",
        1.0,
        structure=Structure("navigation", "Table of Contents"),
    )

    assert answer("How do I stop parsing from a handler function?", [contents]) == NOT_FOUND


# --- each checker fails on a made-up violation ---------------------------------------------------

TLS = CASES[3]


@pytest.mark.parametrize(
    "made_up",
    [
        "Redis can be compiled and used on Linux [1].",  # the sentence goes on: ", OSX, ..."
        "To build with TLS support, you'll need OpenSSL development libraries (e.g [1].",
        "To build with TLS support, you'll need OpenSSL development libraries (e.g. "
        "libssl-dev on Debian/Ubuntu) and run: [1].",
    ],
)
def test_the_whole_sentence_check_fails_on_a_cut_sentence(made_up: str) -> None:
    context, _ = answered(TLS)
    with pytest.raises(AssertionError):
        assert_whole_sentences(made_up, context)


def test_the_whole_sentence_check_fails_on_a_sentence_without_the_list_it_introduces() -> None:
    source = ContextChunk(
        "Applications for this include\n\n- Supporting the XInclude specification.", "a.html", 1
    )
    with pytest.raises(AssertionError):
        assert_whole_sentences("Applications for this include [1].", [source])


def test_the_citation_checks_fail_on_a_passage_quoted_under_another_number() -> None:
    context, text = answered(TLS)
    [(quoted, _, end)] = units(text)[:1]
    wrong = next(n for n, c in enumerate(context, 1) if _flat(quoted) not in _flat(c.text))
    made_up = f"{quoted} [{wrong}]{end}"
    with pytest.raises(AssertionError):
        assert_quotes_only_what_it_cites(made_up, context)
    with pytest.raises(AssertionError):
        assert_cites_the_fact_source(made_up, context, TLS)
    with pytest.raises(AssertionError):
        assert_quotes_only_what_it_cites(f"{text} Nothing anyone wrote [1].", context)
    with pytest.raises(AssertionError):
        assert_quotes_only_what_it_cites(f"Words of no source. {text}", context)


def test_the_fact_check_fails_on_an_answer_without_it() -> None:
    with pytest.raises(AssertionError):
        assert_holds_the_fact("It is as simple as: % make [1].", TLS)


def test_the_navigation_check_fails_on_contents_lines() -> None:
    navigation = ContextChunk(
        "- [Overview](#overview)\n- [Using Expat](#using)",
        "a.html",
        1.0,
        structure=Structure("navigation"),
    )
    with pytest.raises(AssertionError):
        assert_no_navigation("- [Overview](#overview) [1].", [navigation])
    with pytest.raises(AssertionError):
        assert_no_navigation(
            "Supported ASN.1 types, list of . . . . . 2 [1].",
            [ContextChunk("Supported ASN.1 types, list of . . . . . 2", "a.pdf", 1.0)],
        )


# --- rules the cases do not reach ----------------------------------------------------------------


def test_no_row_with_the_version_of_the_question_is_not_found_rather_than_a_neighbour() -> None:
    rows = [c for c in chunks("ubuntu.csv") if "20.04" not in c.text]

    assert answer("When was Ubuntu 20.04 released?", rows[:CONTEXT_SIZE]) == NOT_FOUND


def test_table_row_shows_the_fields_the_question_asks_for() -> None:
    [row] = [c for c in chunks("ubuntu.csv") if "version: 22.04 LTS" in c.text][:1]

    text = answer("When was Ubuntu 22.04 released?", [row])

    assert text == "version: 22.04 LTS; release: 2022-04-21 [1]."


def test_without_any_shared_content_word_nothing_is_found() -> None:
    context = list(chunks("xz-faq.txt")[:2])

    assert answer("Как дела?", context) == NOT_FOUND
    assert answer("What is it, and how?", context) == NOT_FOUND


def test_empty_context_answers_politely_that_nothing_was_found() -> None:
    assert answer("What pressure does the pump run at?", []) == NOT_FOUND


@pytest.mark.parametrize("line", ["#", "###", "   #   "])
def test_a_markdown_line_of_hashes_alone_is_no_passage_and_no_failure(line: str) -> None:
    context = [ContextChunk(f"Intro line\n{line}\n\nRun make install to install it.", "a.md", 0.9)]

    assert answer("How do I install it?", context) == "Run make install to install it [1]."


@pytest.mark.parametrize(
    "text",
    [
        "For example:\n$ asn1Decoding pkix.asn assign.out PKIX1.Dss-Sig-Value",
        "Decode it as the PKIX1.Dss-Sig-Value type of the definitions.",
    ],
)
def test_a_sentence_is_never_cut_inside_a_word_after_its_dot(text: str) -> None:
    """The segmenter cut "PKIX1.Dss-Sig-Value" after "PKIX1." (libtasn1's manual), and the
    answer quoted "PKIX1 [1]. Dss-Sig-Value [1]."."""
    said = answer("Which type does the Dss-Sig-Value example decode?", [ContextChunk(text, "m", 1)])

    assert "PKIX1.Dss-Sig-Value" in said and "PKIX1 [1]" not in said


HELP_IN_A_PDF = """Usage: asn1Decoding [OPTION] DEFINITIONS ENCODED ASN1TYPE
Decodes DER data in ENCODED file, for the ASN1TYPE element.
-b, --benchmark perform a benchmark on decoding
-s, --strict use strict DER decoding
-t, --no-time-strict use strict DER decoding but not in time fields
-h, --help display this help and exit"""


def test_options_listed_one_a_line_without_their_columns_are_options() -> None:
    """A --help text in a PDF's text has lost its columns (libtasn1's manual): each line that
    opens with flags in a run of them is an option, not one sentence of all of them."""
    said = answer("Which option performs a benchmark?", [ContextChunk(HELP_IN_A_PDF, "m", 1)])

    assert said == "-b, --benchmark: perform a benchmark on decoding [1]."


def test_a_single_line_opening_with_a_flag_stays_prose() -> None:
    text = "Introduction.\n--strict and --long can be combined for archives of any size."
    said = answer("Can strict and long be combined?", [ContextChunk(text, "m", 1)])

    assert said.startswith("--strict and --long can be combined")


# --- the provider --------------------------------------------------------------------------------


def test_no_llm_runs_so_no_tokens_are_billed() -> None:
    context, _ = answered(CASES[0])
    request = LLMRequest([], "unused", 0.0, 100, CASES[0].question, context)
    provider = ExtractiveProvider(len)

    completion = provider.complete(request)

    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (0, 0)
    assert (completion.model, completion.provider) == ("extractive", "extractive")
    assert provider.billed is False


def test_stream_yields_word_groups_that_join_to_the_text_then_the_completion() -> None:
    context, _ = answered(CASES[0])
    request = LLMRequest([], "unused", 0.0, 100, CASES[0].question, context)

    *deltas, completion = ExtractiveProvider(len).stream(request)

    assert isinstance(completion, Completion)
    assert len(deltas) > 1
    assert all(isinstance(delta, str) and len(delta.split()) <= 4 for delta in deltas)
    assert "".join(deltas) == completion.text  # type: ignore[arg-type]
