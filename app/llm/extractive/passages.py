"""Cutting retrieved chunks into the passages an extractive answer can quote: the candidates.

A passage is what answers a question on its own: a sentence of prose, a man page's option line
with its description, a table row, the answer of a question/answer pair. Chunks arrive as the
loaders wrote them: man pages and licences as wrapped, indented text, HTML as one line per block,
CSV rows as `name: value` lines, FAQs as `Q:` / `A:` paragraphs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence

import sentencex

from app.llm.base import Structure
from app.llm.function_words import folded
from ingestion.plaintext import ANSWER_WORDS, QUESTION_WORDS
from ingestion.sections import FAQ, OPTION, PATH_SEPARATOR


@dataclasses.dataclass(frozen=True)
class Passage:
    kind: str  # "sentence", "option", "record" or "answer"
    shown: str  # what the answer quotes (a record's shown fields are chosen per question)
    matched: str  # what the question is compared with
    asked: str = ""  # for an answer: the question it answers
    topic: str = ""  # the heading or defined term the passage is under
    fields: tuple[tuple[str, str], ...] = ()  # for a record
    fragment: bool = False  # a sentence the chunk's start or end cut off


_WORD = re.compile(r"\w+")
# A chunk opens with its question within this many lines (a wrapped, numbered question).
_FAQ_QUESTION_LINES = 6
# groff hyphenates at line ends with U+2010; a soft hyphen may come from HTML or PDF text.
_HYPHENATED = re.compile(r"(\w)[\u2010\u00ad]\n[ \t]*(\w)")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
# "Q:", "Q.", German "F:", "Question :"; one letter only in capitals ("F. Scott" asks nothing).
_QUESTION_MARK = re.compile(rf"^(?:Q\s?[.:)]|F\s?:|(?i:{QUESTION_WORDS})\s?:)\s+")
_ANSWER_MARK = re.compile(rf"^(?:A\s?[.:)]|R\s?:|(?i:{ANSWER_WORDS})\s?:)\s+")
_KEY_VALUE = re.compile(r"^\s*([^\s:][^:\n]{0,39}?)\s?:\s+(\S.*?)\s*$")
_FIELD_SEPARATOR = re.compile(r"\s+\|\s+|;\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
_OPTION_WORD = re.compile(r"-{1,2}[^\W_][\w.#@?+-]*(?:[=\[][^\s,]*)?,?")
_OPTION_ARGUMENT = re.compile(r"(?:\[[^\s\]]+\]|<[^\s>]+>|[A-Z][A-Z0-9_.=|-]*|=\S+),?")
# An argument in any case ("-i identity_file", "-L [bind_address:]port:host:hostport",
# "--extract Archiv Verzeichnis"): taken only where the layout says the line is an option's.
_ANY_ARGUMENT = re.compile(r"[\w\[\]<>{}():|.=/@+*…-]*\w[\w\[\]<>{}():|.=/@+*…-]*,?")
# A sentence that stops on a lower-case word goes on in what follows ("…for this include").
_GOES_ON = re.compile(r"\s[^\W\d_]*[a-zà-ÿ]$")
_ITEMS = re.compile(r"\s[-*•·+]\s")  # between the items of a list joined into one line
_BULLET = re.compile(r"^(?:[-*•·+]\s|\d+[.)]\s|#)")
_NUMBERING = re.compile(r"^\(?(?:\d+(?:\.\d+)*|[a-zA-Z]|[ivxIVX]+)[.)]$")
_RUNNING_HEADER = re.compile(r"^(\S+\(\w+\)) .*\1$")
# "3.3. Distribution of a Larger Work": a numbered section's title, no sentence.
_NUMBERED_HEADING = re.compile(r"^(?:\d+\.)+\d*\s+[^.!?:;]{1,60}$")
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”»)\]]*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")
# An option line never says that it is one; the question does ("Which tar option lists…").
OPTION_WORDS = frozenset(
    "option opcion opzione opcao optie flag switch parameter parametre オプション 选项 옵션".split()
)
# A capitalised line of at most this many words without a full stop is a heading. Fitted on the
# held-out man-page set: at 0 (no such headings), lead 14 → 13 of 25.
_HEADING_WORDS = 8
# A sentence's colon keeps what it introduces when that is at most this long (a command, a list).
# Fitted on the support set: at 0, fact 34 → 32 and lead 22 → 19 of 61.
_INTRODUCED_CHARS = 400
_INSIDE = re.compile(r"(?:\b(?:e\.g|i\.e|z\.\s?B|d\.\s?h|p\.\s?ej|p\.\s?ex|cf|vs)\.)\s*$", re.I)
_DOT_LEADER = re.compile(r"(?:\.\s?){5,}\s*\w{0,6}\s*$|(?:\.\s){3,}\.?\s*\d")
_LINKS = re.compile(r"(?:[*•·|-]?\s*\[[^\]]*\]\([^)]*\)\s*[,;|·•]?\s*)+")
_CONTENTS = re.compile(
    r"(?:table of )?contents|index|inhalt(?:sverzeichnis)?|table des mati[eè]res|sommaire|"
    r"[íi]ndice(?: general)?|indice|inhoud(?:sopgave)?",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"<[^<>]+>(?:[^<>]{0,80}<[^<>]+>)*")
# Lines shorter than this are headings, terms or labels when what follows starts anew ("root"
# over "Root is (typically) the superuser."). Fitted on the support set: 40 → 30, fact 38 → 39
# and lead 24 → 23 of 61, the other sets unchanged; at 0 (no such headings) 39 and 27, but a
# heading then opens the sentence under it ("Temporarily Stopping Parsing Expat 1.95.8 …").
_SHORT_LINE = 30
# An answer of a question/answer pair is quoted up to this many characters (one sentence at least).
# Fitted on the support set: at one sentence, fact 34 → 32 of 61.
ANSWER_CHARS = 240


def passages(text: str, language: str, structure: Structure = Structure()) -> list[Passage]:
    """The chunk's passages in reading order; what ingestion knew of the chunk (`structure`) is
    taken over what its layout suggests."""
    text = _HYPHENATED.sub(r"\1\2", text.replace("\r\n", "\n").expandtabs(8))
    pair = None
    if structure.kind == FAQ and structure.question:
        pair = _faq(text, structure.question, language)
    if pair is not None:
        return pair
    titles = [title.strip() for title in structure.heading_path.split(PATH_SEPARATOR)]
    found = _passages(text, language, [title for title in titles if title])
    if structure.kind == OPTION and structure.option and all(p.kind != "option" for p in found):
        return _described_option(text, structure.option, language) or found
    return found


def _faq(text: str, question: str, language: str) -> list[Passage] | None:
    """The answer of a question/answer pair whose question ingestion knew, from the line after
    the question; None when the chunk does not open with it (the rest of a long answer)."""
    asked = _WORD.findall(folded(question))
    lines = text.split("\n")
    seen: list[str] = []
    for index, line in enumerate(lines[:_FAQ_QUESTION_LINES]):
        seen += _WORD.findall(folded(line))
        if asked and seen[-len(asked) :] == asked:
            answer = [_ANSWER_MARK.sub("", line.strip()) for line in lines[index + 1 :]]
            if not any(line.strip() for line in answer):
                return None
            return [_answer(question, answer, language)]
    return None


def _described_option(text: str, option: str, language: str) -> list[Passage] | None:
    """An option whose flags ingestion knew, with the description under them."""
    lines = text.split("\n")
    first = option.split(",")[0].split()[0]
    at = next((i for i, line in enumerate(lines) if line.strip().startswith(first)), None)
    if at is None:
        return None
    rest = lines[at].strip()[len(option) :].strip() if lines[at].strip().startswith(option) else ""
    _, passage = _option_passage(
        [option, *(["  " + rest] if rest else []), *("  " + line for line in lines[at + 1 :])],
        0,
        (option, ""),
        language,
    )
    before, _ = _prose(lines[:at], language, headings=True)
    return [*before, passage]


def _passages(text: str, language: str, titles: list[str]) -> list[Passage]:
    """The passages as the chunk's layout shows them; `titles`, the headings over the chunk:
    the last is the topic of what opens it, and a line that repeats one is no passage."""
    blocks = _described([block.split("\n") for block in _BLANK_LINES.split(text) if block.strip()])
    found: list[Passage] = []
    topic = titles[-1] if titles else ""
    known = frozenset(folded(title) for title in titles)
    question: str | None = None
    marked = False  # whether the pair has "Q:" / "A:" marks (else its answer is one paragraph)
    answer: list[str] = []

    def close_pair() -> None:
        nonlocal question
        if question is not None:
            found.extend([_answer(question, answer, language)] if answer else [])
            # a question without its answer (the chunk ends, or a list of questions) answers
            # nothing

        question = None
        answer.clear()

    for lines in blocks:
        if _QUESTION_MARK.match(lines[0].strip()):
            split_at = next(
                (i for i, line in enumerate(lines) if _ANSWER_MARK.match(line.strip())), len(lines)
            )
            asked = _QUESTION_MARK.sub("", _join(lines[:split_at]))
            if question is not None and not answer:
                question = f"{question} {asked}"  # two questions, one answer
            else:
                close_pair()
                question, marked = asked, True
            answer.extend(_unmarked(lines[split_at:]))
        elif not marked and question is None and _is_question_paragraph(lines):
            question = _join(lines)
        elif question is not None:
            answer.extend(["", *_unmarked(lines)])
            if not marked:
                close_pair()
        elif found and (followed := _followed(found[-1], _join(lines))):
            found[-1] = followed  # the command under "…can be used:"
        else:
            block, topic = _block(lines, language, topic, known)
            found.extend(block)
    close_pair()
    opening = text.lstrip()[:1]
    if (
        found
        and found[0].kind == "sentence"
        and opening.islower()
        and found[0].shown[:1] == opening
    ):
        found[0] = _cut(found[0])
    if found and found[-1].kind == "sentence" and not _SENTENCE_END.search(found[-1].shown):
        found[-1] = _cut(found[-1])
    return found


def _described(blocks: list[list[str]]) -> list[list[str]]:
    """Blocks with an option's description joined to its option line where a blank line parts
    them (sed's "-E, -r, --regexp-extended", then its indented description)."""
    joined: list[list[str]] = []
    for lines in blocks:
        deeper = joined and _indent(lines[0]) > _indent(joined[-1][-1])
        if deeper and _option(joined[-1][-1], lines[0]):
            joined[-1] = [*joined[-1], *lines]
            continue
        joined.append(lines)
    return joined


def _unmarked(lines: list[str]) -> list[str]:
    return [_ANSWER_MARK.sub("", lines[0].strip()), *lines[1:]] if lines else []


def _cut(passage: Passage) -> Passage:
    return dataclasses.replace(passage, fragment=True)


def _is_question_paragraph(lines: list[str]) -> bool:
    """An FAQ without marks: a short paragraph that is a question ("1. Is zlib Y2K-compliant?")."""
    joined = _join(lines)
    return len(joined) <= ANSWER_CHARS and joined.endswith(("?", "？")) and not _option(lines[0])


def _answer(question: str, lines: list[str], language: str) -> Passage:
    sentences = [p.shown for p in _prose(lines, language)[0]]
    shown = sentences[:1]
    for sentence in sentences[1:]:
        if len(" ".join([*shown, sentence])) > ANSWER_CHARS:
            break
        shown.append(sentence)
    return Passage("answer", " ".join(shown), " ".join(sentences), asked=question)


def _block(
    lines: list[str], language: str, topic: str, titles: frozenset[str] = frozenset()
) -> tuple[list[Passage], str]:
    """The block's passages, and the topic its last one is under (a heading alone in the block
    is the topic of the blocks after it)."""
    if record := _record(lines):
        return [record], topic
    if table := _table(lines):
        return table, topic
    found: list[Passage] = []
    prose: list[str] = []
    index = 0
    listed = _listed_options(lines)
    while index < len(lines):
        spec = _option(lines[index], _after(lines, index))
        if spec is None and index in listed:
            spec = _listed_option(lines[index])
        if spec and prose and _continues(prose[-1], lines[index]):
            spec = None  # "…only done with" over "--force." is one sentence
        if spec is None:
            prose.append(lines[index])
            index += 1
            continue
        sentences, topic = _prose(prose, language, True, topic, titles)
        found += sentences
        prose = []
        index, passage = _option_passage(lines, index, spec, language)
        found.append(passage)
    sentences, topic = _prose(prose, language, True, topic, titles)
    return found + sentences, topic


def _listed_options(lines: list[str]) -> set[int]:
    """The lines of a run of two or more, at one indentation, that each open with an option's
    flags: a --help text whose columns a PDF's text lost ("-s, --strict use strict DER
    decoding" over "-t, --no-time-strict use …", libtasn1's manual)."""
    flagged = [_listed_option(line) is not None for line in lines]
    return {
        i
        for i, line in enumerate(lines)
        if flagged[i]
        and any(
            0 <= j < len(lines) and flagged[j] and _indent(lines[j]) == _indent(line)
            for j in (i - 1, i + 1)
        )
    }


def _listed_option(line: str) -> tuple[str, str] | None:
    """(flags, description) of a line that opens with flags and goes on with words after one
    space; None unless the description has two words at least."""
    words = line.split()
    flags = 0
    while flags < len(words) and (
        _OPTION_WORD.fullmatch(words[flags]) or flags and _OPTION_ARGUMENT.fullmatch(words[flags])
    ):
        flags += 1
    if not flags or len(words) - flags < 2 or not words[0].startswith("-"):
        return None
    return " ".join(words[:flags]).rstrip(","), " ".join(words[flags:])


def _continues(previous: str, line: str) -> bool:
    return _indent(previous) == _indent(line) and not previous.rstrip().endswith((".", ":"))


def _option(line: str, following: str | None = None) -> tuple[str, str] | None:
    """(the option line's flags, a description on the same line) if the line is a man page's
    or a --help text's option line: `-t, --list`, `-l, --list [signal]`, `-k   Keep files.`

    Arguments are in capitals, brackets or angle brackets (`FILE`, `[=N]`, `<dir>`), or in any
    case when the line is flags and arguments alone with the `following` line indented deeper,
    as an option's description is (`-i identity_file`, `-x, --extract Archiv Verzeichnis`).
    """
    stripped = line.strip()
    if not stripped.startswith("-"):
        return None
    spec, _, description = stripped.partition("  ")
    words = spec.split()
    if not words or not _OPTION_WORD.fullmatch(words[0]) or len(words) > 6 or spec[-1] == ".":
        return None
    if all(_OPTION_WORD.fullmatch(w) or _OPTION_ARGUMENT.fullmatch(w) for w in words[1:]):
        return spec.rstrip(","), description.strip()
    # described by the deeper lines after it, or stacked over another form of the option
    described = following is not None and (
        following.strip() and _indent(following) > _indent(line) or _stacked(line, following)
    )
    if description or not described or len(words) > 4:
        return None
    if not all(_OPTION_WORD.fullmatch(w) or _ANY_ARGUMENT.fullmatch(w) for w in words[1:]):
        return None
    return spec.rstrip(","), ""


def _stacked(line: str, following: str) -> bool:
    """ssh's `-L [bind_address:]port:host:hostport` over `-L [bind_address:]port:remote_socket`:
    another option line, or another form of this one, at the same indentation."""
    below = following.split()[:1]
    if not below or _indent(following) != _indent(line):
        return False
    return below[0] == line.split()[0].rstrip(",") or _option(following) is not None


def _after(lines: list[str], index: int) -> str | None:
    return lines[index + 1] if index + 1 < len(lines) else None


def _option_passage(
    lines: list[str], index: int, spec: tuple[str, str], language: str
) -> tuple[int, Passage]:
    """The option line (and option lines stacked under it), with its indented description."""
    indent = _indent(lines[index])
    flags, description = [spec[0]], [spec[1]] if spec[1] else []
    index += 1
    while (
        index < len(lines)
        and not description
        and (more := _option(lines[index], _after(lines, index)))
    ):
        flags.append(more[0])
        description += [more[1]] if more[1] else []
        index += 1
    # Described by what is indented deeper (a chunk's first line has lost its indentation).
    while index < len(lines) and (_indent(lines[index]) > indent or indent == 0 and description):
        if _indent(lines[index]) <= indent:
            break
        description.append(lines[index])
        index += 1
    sentences = [p.shown for p in _prose(description, language)[0]]
    spec_text = ", ".join(flags)
    shown = f"{spec_text}: {sentences[0]}" if sentences else spec_text
    matched = f"{spec_text} {' '.join(sorted(OPTION_WORDS))} {' '.join(sentences)}"
    return index, Passage("option", shown, matched)


def _record(lines: list[str]) -> Passage | None:
    """A table row as the CSV loader writes it (`name: value` a line), or on one line with the
    fields separated by `|` or `;`."""
    if len(lines) == 1:
        parts = _FIELD_SEPARATOR.split(lines[0].strip())
    else:
        parts = [line.strip() for line in lines if line.strip()]
    pairs = [_KEY_VALUE.match(part) for part in parts]
    if len(pairs) < 2 or not all(pairs):
        return None
    fields = tuple((m.group(1).strip(), m.group(2)) for m in pairs if m)
    if any(len(key.split()) > 4 or _SENTENCE_END.search(key) for key, _ in fields):
        return None
    shown = "; ".join(f"{key}: {value}" for key, value in fields)
    return Passage("record", shown, shown, fields=fields)


def _table(lines: list[str]) -> list[Passage] | None:
    """A Markdown table: each row a record under the header's names, when the chunk has it."""
    rows = [line.strip() for line in lines]
    if len(rows) < 2 or not all(row.startswith("|") for row in rows):
        return None
    header: list[str] | None = None
    if _TABLE_RULE.match(rows[1]):
        header, rows = _cells(rows[0]), rows[2:]
    found = []
    for row in rows:
        cells = _cells(row)
        if header and len(header) == len(cells):
            fields = tuple((k, v) for k, v in zip(header, cells, strict=True) if v)
            shown = "; ".join(f"{key}: {value}" for key, value in fields)
            found.append(Passage("record", shown, shown, fields=fields))
        else:
            shown = " | ".join(cells)
            found.append(Passage("sentence", shown, shown))
    return found


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _prose(
    lines: Sequence[str],
    language: str,
    headings: bool = False,
    topic: str = "",
    titles: frozenset[str] = frozenset(),
) -> tuple[list[Passage], str]:
    """Sentences; a heading or a defined term alone on its line ("nobody, nogroup" over what
    the nobody user is for) is no answer, but says what the sentences after it are about, and
    so does a question ("5.4. Is it possible to attach Valgrind to a running program?"). With
    `headings`, a short capitalised line without a full stop is one ("Temporarily Stopping
    Parsing"): not in an option's description, which man pages write without one. What a
    sentence introduces with a colon (a command, a short list) stays with it. Returns the
    sentences and the topic the last of them is under."""
    found: list[Passage] = []
    listing = False  # the last sentence's colon introduced a list that may go on
    for paragraph in _paragraphs([line for line in lines if not _index_line(line)]):
        if found and (followed := _followed(found[-1], paragraph, listing)):
            found[-1] = followed
            listing = bool(_BULLET.match(paragraph))
            continue
        listing = False
        merged: list[str] = []
        for piece in sentencex.segment(language, paragraph):
            if merged and _continued(merged[-1], piece):
                merged[-1] += piece
            elif piece.strip():
                merged.append(piece)
        merged = [piece.strip() for piece in merged if not _index_line(piece)]
        if not merged:
            continue
        if (
            not _substantive(merged[-1])
            or headings
            and _heading(merged)
            or len(merged) == 1
            and folded(merged[0]) in titles
        ):
            topic = merged.pop()
        for sentence in merged:
            if _asks(sentence):
                topic = sentence
            elif _substantive(sentence):
                matched = f"{topic} {sentence}".strip()
                found.append(Passage("sentence", sentence, matched, topic=topic))
    return found, topic


def _heading(paragraph: list[str]) -> bool:
    """A title on its own: one short capitalised piece with no sentence's end."""
    if len(paragraph) != 1:
        return False
    text = paragraph[0]
    return (
        text[:1].isupper()
        and len(text.split()) <= _HEADING_WORDS
        and not _SENTENCE_END.search(text)
        and not text.endswith((":", ",", ";"))
    )


def _asks(sentence: str) -> bool:
    return sentence.rstrip("\"'”»)").endswith(("?", "？", "¿"))


def _followed(passage: Passage, text: str, listing: bool = False) -> Passage | None:
    """The sentence with what its colon introduces ("…can be used to set an account to expire
    in 180 days:" and the command under it; a list's next item while `listing`), if that is
    short; else None. A sentence without its full stop over a list ("Applications for this
    include" over "- Supporting the XInclude specification.") introduces it as a colon does; of
    a list too long to quote whole, the items that fit are quoted."""
    bulleted = bool(_BULLET.match(text.strip()))
    introduces = passage.shown.endswith(":") or (bool(_GOES_ON.search(passage.shown)) and bulleted)
    if passage.kind != "sentence" or not (listing or introduces):
        return None
    if listing and not bulleted:
        return None
    flat = " ".join(text.split())
    items = [_BULLET.sub("", flat).strip()]
    if bulleted and not listing:
        items = [item.strip() for item in _ITEMS.split(_BULLET.sub("", flat)) if item.strip()]
    taken: list[str] = []
    for item in items:
        if len(passage.shown) + len(" ".join([*taken, item])) > _INTRODUCED_CHARS:
            break
        taken.append(item)
    whole = all(_SENTENCE_END.search(item) for item in taken)
    item = (" " if whole else "; ").join(taken)
    if not item or _index_line(item):
        return None
    shown = f"{passage.shown}{'; ' if listing else ' '}{item}"
    return dataclasses.replace(passage, shown=shown, matched=f"{passage.matched} {item}")


def _index_line(text: str) -> bool:
    """A line of an index or a table of contents ("Supported ASN.1 types, list of . . . 2"), a
    line of links ("[Install](#install) · [FAQ](#faq)") or of markup: never an answer."""
    text = text.strip()
    return bool(
        _DOT_LEADER.search(text)
        or _LINKS.fullmatch(text)
        or _MARKUP.fullmatch(text)
        or _CONTENTS.fullmatch(text)
    )


def _continued(previous: str, piece: str) -> bool:
    """Whether the segmenter cut a sentence that goes on in `piece`.

    It leaves a numbering alone ("1.7." before '"Larger Work" means …'), and abbreviations
    outside its lists: French "c.-à-d." is cut after "c.", but no sentence starts with "-à-d.".
    No sentence ends inside a parenthesis ("(e.g. `make check`)") or after "e.g.", nor inside a
    word: "PKIX1.Dss-Sig-Value" is one name, whatever follows its dot.
    """
    if _NUMBERING.match(previous.strip()):
        return True
    if previous[-1:] in ".!?" and piece[:1].strip():
        return True  # no space between them: the cut is inside a token
    if _open(previous):
        return True
    last = previous.rstrip()
    word = re.split(r"[\s.-]", last.rstrip("."))[-1]
    start = piece[:1]
    return last.endswith(".") and len(word) <= 3 and (start.islower() or start == "-")


def _open(text: str) -> bool:
    """Whether a sentence goes on after the text: a parenthesis is open, or it ends with "e.g."."""
    return text.count("(") > text.count(")") or bool(_INSIDE.search(text))


def _paragraphs(lines: Sequence[str]) -> Iterator[str]:
    """Wrapped lines joined into paragraphs; a list item and a Markdown heading stand alone."""
    current = previous = ""
    for raw in lines:
        line = " ".join(raw.split())
        if current and (not line or _starts_anew(previous, line)):
            yield current.lstrip("# ").strip()
            current = ""
        elif current:
            # CJK is written without spaces, so its wrapped lines join without one.
            current += "" if _CJK.match(line) and _CJK.search(current[-1]) else " "
        current += line
        previous = line
    if current:
        yield current.lstrip("# ").strip()


def _starts_anew(previous: str, line: str) -> bool:
    if _BULLET.match(line) or previous.startswith("#"):
        return True
    if _open(previous):
        return False  # "…libraries (e.g." over "libssl-dev on Debian/Ubuntu) and run:"
    if _CJK.search(previous[-1:]):
        return len(previous) < _SHORT_LINE // 2  # a CJK character is two columns wide
    if len(previous) < _SHORT_LINE and previous.isupper():
        return True  # a man page's section: "SYNOPSIS" over "free [options]"
    if len(line) < _SHORT_LINE and _SENTENCE_END.search(previous):
        return True  # a term after a sentence: "…on the server." over "messagebus"
    short = len(previous) < _SHORT_LINE and not previous.endswith((",", "-", "(", "and", "or"))
    return short and not line[:1].islower()


def _substantive(sentence: str) -> bool:
    """Whether a sentence can answer anything: not a lone heading ("DESCRIPTION"), a label or a
    man page's running header ("FREE(1)  Commandes de l'utilisateur  FREE(1)")."""
    if _RUNNING_HEADER.match(sentence) or _NUMBERED_HEADING.match(sentence):
        return False
    if _CJK.search(sentence):
        return len(sentence) >= 4
    return len(re.findall(r"\w+", sentence)) >= 3 or bool(_SENTENCE_END.search(sentence))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _join(lines: Sequence[str]) -> str:
    return " ".join(" ".join(lines).split())
