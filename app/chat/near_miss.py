"""Near-miss questions: in the documents' domain, about something no document names.

"What is the default appendfsync setting?" over a Redis README that never says appendfsync is
similar enough to its persistence chapter to pass the similarity test (0.89 with e5), and the
answer quotes that chapter. What gives it away is a word that names something (a setting, a
command, a product) and that no document has.

A word names something when it is rare in every language our customers write (in no word list of
wordfreq's seven: "appendfsync", "pkill", "vgdb") or is written as code ("UNIX-LISTEN", "gdb",
"ASN.1", "camelCase"). Ordinary words that no document has ("crossing", German "zeige", Spanish
"busco") tell nothing: a question in another language than the documents has many, and a
paraphrase uses others than the documents do. A German compound ("Passwortwechsel") is two
ordinary words. Measured on the three evaluation sets (docs/BENCHMARKS.md, "Near-miss refusal"):
no answerable question of 163 has such a word that its documents lack; 4 of 7 near-misses do.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

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
_INNER_MARK = re.compile(r"\w[_./]\w|\d")
_CAMEL = re.compile(r"[a-z][A-Z]")
_VOWEL = re.compile(r"[aeiouyäöüéèêàáâíìîóòôúùû]", re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """A word of the question that names something, as written, and its words in lower case."""

    text: str
    words: tuple[str, ...]


def naming_terms(question: str) -> list[Term]:
    """The words of the question that name something (see the module's docstring)."""
    found: dict[tuple[str, ...], Term] = {}
    for token in _TOKEN.findall(question):
        for part in _parts(token):
            words = tuple(re.findall(r"[^\W_]+", part.casefold()))
            if not words or (len(words) == 1 and folded(words[0]) in FUNCTION_WORDS):
                continue
            if _as_code(part) or len(words) == 1 and _rare(words[0]):
                found.setdefault(words, Term(part, words))
    return list(found.values())


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
    if len(word) < 4 or not _LETTER.search(word) or _listed(word, _words().every):
        return False
    if any(_listed(word[: -len(e)], _words().every) for e in _ENDINGS if _ends(word, e)):
        return False
    for cut in range(_PART, len(word) - _PART + 1):
        head, tail = word[:cut], word[cut:]
        if _ordinary(tail) and (_ordinary(head) or head.endswith("s") and _ordinary(head[:-1])):
            return False
    return True


def _ordinary(word: str) -> bool:
    """A word common enough to be half of a compound: once in a million words (zipf 3) in one
    of the languages, as it is or with an ending off."""
    common = _words().common
    return _listed(word, common) or any(
        _listed(word[: -len(e)], common) for e in _ENDINGS if _ends(word, e)
    )


def _ends(word: str, ending: str) -> bool:
    return word.endswith(ending) and len(word) - len(ending) >= 4


def _listed(word: str, table: np.ndarray) -> bool:
    hashed = hash(word.casefold())
    at = int(np.searchsorted(table, hashed))
    return at < len(table) and int(table[at]) == hashed


@dataclass(frozen=True)
class _Words:
    every: np.ndarray  # every word of the lists, as sorted hashes
    common: np.ndarray  # those at zipf 3 or more


# wordfreq's packed lists hold their words in buckets of one centibel of frequency, most frequent
# first: bucket i holds words of frequency 10^(-i/100), zipf 9 - i/100
_COMMON_BUCKETS = 600  # zipf 3


_loading = threading.Lock()


def _words() -> _Words:
    with _loading:  # a question arriving during the start-up's warm-up waits for it
        return _load_words()


@functools.cache
def _load_words() -> _Words:
    """Every word of wordfreq's large lists in LANGUAGES (about 2 million) as sorted hashes, 16
    MB; the lists as wordfreq's own dictionaries would take 250 MB. The hashes are the
    process's own `hash`: they are never stored."""
    every: list[np.ndarray] = []
    common: list[np.ndarray] = []
    for language in LANGUAGES:
        path = wordfreq.available_languages("large")[language]
        for index, bucket in enumerate(wordfreq.read_cBpack(path)):
            hashed = np.fromiter(map(hash, bucket), np.int64, len(bucket))
            every.append(hashed)
            if index <= _COMMON_BUCKETS:
                common.append(hashed)
    words = _Words(np.unique(np.concatenate(every)), np.unique(np.concatenate(common)))
    del every, common
    _give_back_memory()
    return words


def _give_back_memory() -> None:
    """Return the freed lists' memory to the system (glibc keeps it otherwise: 70 MB)."""
    # not glibc: the memory is reused by the process instead
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def warm_up() -> None:
    """Load the word lists (about a second) at start-up rather than in a question."""
    _words()


def absent_text(terms: Iterable[Term]) -> str:
    return ", ".join(f"“{term.text}”" for term in terms)
