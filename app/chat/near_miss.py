"""Near-miss questions: in the documents' domain, about something no document names.

"What is the default appendfsync setting?" over a Redis README that never says appendfsync is
similar enough to its persistence chapter to pass the similarity test (0.89 with e5), and the
answer quotes that chapter. What gives it away is a word that names something (a setting, a
command, a product) and that no document has. Three kinds of word name something:

- a word rare in every language our customers write (in no word list of wordfreq's seven:
  "appendfsync", "pkill", "vgdb") or written as code ("UNIX-LISTEN", "gdb", "ASN.1",
  "camelCase", ".env");
- a capitalised word inside a sentence, in a question written in the documents' language
  ("How do I set up Redis Sentinel?"): a name, copied as the documents would write it. Not in
  German, which capitalises every noun, nor in a question in another language than the
  documents, which translates names ("Licença Artística" for the Artistic License);
- a word of the documents' language in a question written in another ("Timeout" in "Wie setze
  ich bei httplib2 ein Timeout?"): a borrowed technical term, which documents in that language
  would have as it is.

Ordinary words that no document has ("crossing", German "zeige", Spanish "busco") tell nothing:
a question in another language than the documents has many, and a paraphrase uses others than
the documents do. A German compound ("Passwortwechsel") is two ordinary words. Measured on the
three evaluation sets (docs/BENCHMARKS.md, "Answers, near-misses and conversations"): no
answerable question of 163 has such a word that its documents lack; 5 of 7 near-misses do.

A text's language is the one of the seven whose word lists make its words most frequent (the
sum of their Zipf frequencies): right for all 203 questions of the evaluation sets, and at no
cost, since the lists are loaded anyway.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import itertools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import wordfreq

from app.llm.function_words import FUNCTION_WORDS, folded

# the languages of app.llm.function_words: those our customers write most
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")
# "Uninstall", "Entwicklern": an ending off an ordinary word ("uninstall" is in the lists)...
_ENDINGS = ("er", "en", "es", "em", "e", "s", "n")
# ...or a compound of two ("Passwort" + "wechsel", "Arbeit" + "s" + "speicher")
_PART = 3
_TOKEN = re.compile(r"\w[\w.+#/-]*[\w+#]|\w")
_LETTER = re.compile(r"[^\W\d_]")
_LETTERS = re.compile(r"[^\W\d_]+")
_INNER_MARK = re.compile(r"\w[_./]\w|\d")
_CAMEL = re.compile(r"[a-z][A-Z]")
_VOWEL = re.compile(r"[aeiouyäöüéèêàáâíìîóòôúùû]", re.IGNORECASE)
# before a file name's leading dot: the question's start, a space, a quote or a bracket
_BEFORE_DOT = " \t\n\"'`“‘«(["
# what a sentence or a quotation opens after
_OPENERS = ".?!:;\"'`“‘«¿¡(["
# languages that capitalise every noun: a capital says nothing there
NOUNS_CAPITALISED = frozenset({"de"})
# A borrowed word is common in the documents' language (Zipf 3, once in a million words), so that
# a word merely listed there, as most words of the seven languages are in the others' large
# lists, is not one; and at least three times as frequent there as in the question's language
# (Zipf 0.5 more), so that a word both languages share is not one: "Motor" (4.53 in English, 4.47
# in German), "Option", "Format", "Version" differ by 0.3 or less; "Timeout" (3.21 and 2.67) by
# 0.54, "Port" by 0.85, "Home" by 1.5. On the three evaluation sets every borrowed word of an
# answerable question is in its documents.
BORROWED_ZIPF = 3.0
BORROWED_MARGIN = 0.5
# a text's first words are enough to tell its language
_LANGUAGE_WORDS = 300


class Kind(StrEnum):
    """Why a word of the question names something (see the module's docstring)."""

    CODE = "code"
    RARE = "rare"
    NAME = "name"
    BORROWED = "borrowed"


@dataclass(frozen=True)
class Term:
    """A word of the question that names something, as written, and its words in lower case."""

    text: str
    words: tuple[str, ...]
    kind: Kind = Kind.RARE


def naming_terms(question: str, documents_language: str | None = None) -> list[Term]:
    """The words of the question that name something (see the module's docstring).
    `documents_language`: the language of the passages retrieved for it, when known; names
    and borrowed words are told only then."""
    asked = language_of(question) if documents_language else None
    # names are told by their capitals only in the documents' language, and not where every
    # noun or every word is capitalised
    names = (
        asked is not None
        and asked == documents_language
        and asked not in NOUNS_CAPITALISED
        and not _title_case(question)
    )
    found: dict[tuple[str, ...], Term] = {}
    for token in _TOKEN.finditer(question):
        for place, part in enumerate(_parts(token.group())):
            words = tuple(re.findall(r"[^\W_]+", part.casefold()))
            if not words or (len(words) == 1 and folded(words[0]) in FUNCTION_WORDS):
                continue
            if place == 0 and _dotted(question, token.start()):
                found.setdefault(words, Term("." + part, words, Kind.CODE))
                continue
            kind = _kind(part, words, question, token.start(), names, documents_language, asked)
            if kind is not None:
                found.setdefault(words, Term(part, words, kind))
    return list(found.values())


def _kind(
    part: str,
    words: tuple[str, ...],
    question: str,
    at: int,
    names: bool,
    documents: str | None,
    asked: str | None,
) -> Kind | None:
    if _as_code(part):
        return Kind.CODE
    if len(words) > 1:
        return None
    if _rare(words[0]):
        return Kind.RARE
    if documents is None or asked is None or not _LETTER.search(part):
        return None
    if asked == documents:
        named = names and _capitalised(part) and not _sentence_start(question, at)
        return Kind.NAME if named else None
    return Kind.BORROWED if _borrowed(words[0], documents, asked) else None


def _dotted(question: str, at: int) -> bool:
    """A file name that starts with a dot (".env", ".gitignore"), not a sentence's last word."""
    return at > 0 and question[at - 1] == "." and (at == 1 or question[at - 2] in _BEFORE_DOT)


def _capitalised(word: str) -> bool:
    return word[0].isupper() and not word.isupper()


def _title_case(question: str) -> bool:
    """Every word after the first capitalised, function words aside ("How To Reset My
    Password"): the capitals say nothing of names there."""
    words = [
        w for w in _LETTERS.findall(question)[1:] if folded(w.casefold()) not in FUNCTION_WORDS
    ]
    return len(words) >= 2 and all(word[0].isupper() for word in words)


def _sentence_start(question: str, at: int) -> bool:
    """Whether the word at `at` opens a sentence or a quotation: after nothing, after .?!:;, or
    after an opening quote or a Spanish ¿¡."""
    before = question[:at].rstrip()
    return not before or before[-1] in _OPENERS


def _borrowed(word: str, documents: str, asked: str) -> bool:
    """A common word of the documents' language, clearly more frequent there than in the
    question's."""
    there = _lexicon().zipf(word, documents)
    return there >= BORROWED_ZIPF and there >= _lexicon().zipf(word, asked) + BORROWED_MARGIN


def language_of(text: str) -> str:
    """Which of LANGUAGES the text is written in: the one whose lists make its words most
    frequent (see the module's docstring)."""
    found = itertools.islice(_LETTERS.finditer(text), _LANGUAGE_WORDS)
    words = [match.group().casefold() for match in found]
    if not words:
        return LANGUAGES[0]
    lexicon = _lexicon()
    hashed = np.fromiter(map(hash, words), np.int64, len(words))
    return max(LANGUAGES, key=lambda language: float(lexicon.zipfs(hashed, language).sum()))


def _parts(token: str) -> list[str]:
    """A hyphenated word's parts ("Home-Verzeichnis", "faut-il"), unless it is in capitals
    throughout ("UNIX-LISTEN": one name)."""
    token = token.strip("-./")
    if "-" in token and not token.replace("-", "").isupper():
        return [part.strip("./") for part in token.split("-") if part.strip("./")]
    return [token] if token else []


def _as_code(word: str) -> bool:
    """Written as code: letters with digits or inner dots and underscores ("ASN.1", "x86_64"),
    camelCase, capitals throughout ("AOF", "UNIX-LISTEN"), or no vowel ("gdb", "vgdb")."""
    if not _LETTER.search(word):
        return False  # a number: "2014", "20.04"
    if _INNER_MARK.search(word) or _CAMEL.search(word):
        return True
    letters = re.sub(r"[\W\d_]", "", word)
    if len(letters) >= 2 and word.replace("-", "").isupper():
        return True
    return len(letters) >= 3 and not _VOWEL.search(letters)


def _rare(word: str) -> bool:
    lexicon = _lexicon()
    if len(word) < 4 or not _LETTER.search(word) or lexicon.listed(word):
        return False
    if any(lexicon.listed(word[: -len(e)]) for e in _ENDINGS if _ends(word, e)):
        return False
    for cut in range(_PART, len(word) - _PART + 1):
        head, tail = word[:cut], word[cut:]
        if _ordinary(tail) and (_ordinary(head) or head.endswith("s") and _ordinary(head[:-1])):
            return False
    return True


def _ordinary(word: str) -> bool:
    """A word common enough to be half of a compound: once in a million words (zipf 3) in one
    of the languages, as it is or with an ending off."""
    lexicon = _lexicon()
    return lexicon.common(word) or any(
        lexicon.common(word[: -len(e)]) for e in _ENDINGS if _ends(word, e)
    )


def _ends(word: str, ending: str) -> bool:
    return word.endswith(ending) and len(word) - len(ending) >= 4


# wordfreq's packed lists hold their words in buckets of one centibel of frequency, most frequent
# first: bucket i holds words of frequency 10^(-i/100), Zipf 9 - i/100
_ZIPF_TOP = 9.0
COMMON_ZIPF = 3.0  # once in a million words


@dataclass(frozen=True)
class _Lexicon:
    """Every word of wordfreq's large lists in LANGUAGES (about 2.5 million), per language as
    sorted hashes with each word's frequency bucket: 25 MB, where the lists as wordfreq's own
    dictionaries would take 250 MB. The hashes are the process's own `hash`: never stored."""

    hashes: dict[str, np.ndarray]
    buckets: dict[str, np.ndarray]  # uint16, aligned with hashes

    def zipfs(self, hashed: np.ndarray, language: str) -> np.ndarray:
        """The Zipf frequency of each hashed word in the language, 0 where it is not listed."""
        table = self.hashes[language]
        at = np.minimum(np.searchsorted(table, hashed), len(table) - 1)
        listed = table[at] == hashed
        return np.where(listed, _ZIPF_TOP - self.buckets[language][at] / 100.0, 0.0)

    def zipf(self, word: str, language: str) -> float:
        hashed, table = hash(word.casefold()), self.hashes[language]
        at = int(table.searchsorted(hashed))
        if at < len(table) and int(table[at]) == hashed:
            return _ZIPF_TOP - int(self.buckets[language][at]) / 100.0
        return 0.0

    def listed(self, word: str) -> bool:
        return any(self.zipf(word, language) > 0 for language in LANGUAGES)

    def common(self, word: str) -> bool:
        return any(self.zipf(word, language) >= COMMON_ZIPF for language in LANGUAGES)


_loading = threading.Lock()


def _lexicon() -> _Lexicon:
    with _loading:  # a question arriving during the start-up's warm-up waits for it
        return _load_lexicon()


@functools.cache
def _load_lexicon() -> _Lexicon:
    hashes: dict[str, np.ndarray] = {}
    buckets: dict[str, np.ndarray] = {}
    for language in LANGUAGES:
        path = wordfreq.available_languages("large")[language]
        packed = wordfreq.read_cBpack(path)
        hashed = np.fromiter((hash(w) for bucket in packed for w in bucket), np.int64)
        index = np.repeat(
            np.arange(len(packed), dtype=np.uint16), [len(bucket) for bucket in packed]
        )
        # a word listed twice (two spellings folded to one) keeps its most frequent bucket
        order = np.lexsort((index, hashed))
        hashed, index = hashed[order], index[order]
        first = np.concatenate(([True], hashed[1:] != hashed[:-1]))
        hashes[language], buckets[language] = hashed[first], index[first]
        del packed, hashed, index, order
    _give_back_memory()
    return _Lexicon(hashes, buckets)


def _give_back_memory() -> None:
    """Return the freed lists' memory to the system (glibc keeps it otherwise: 70 MB)."""
    gc.collect()  # the lists' strings, some held in cycles until the next collection: 10 MB
    # not glibc: the memory is reused by the process instead
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def warm_up() -> None:
    """Load the word lists (about a second) at start-up rather than in a question."""
    _lexicon()


def absent_text(terms: Iterable[Term]) -> str:
    return ", ".join(f"“{term.text}”" for term in terms)
