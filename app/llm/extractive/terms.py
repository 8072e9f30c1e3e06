"""The terms a question and a passage are compared by: words, and exact tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.llm.function_words import folded

# Exact tokens: options (-t, --list), numbers and dates (20.04, 2022-04-21), codes (lzma2, x3).
_EXACT = re.compile(r"(?<![\w-])--?[^\W\d_][\w-]*|\d+(?:[.,:/-]\d+)*|[^\W\d_]+\d\w*")
_LETTERS = re.compile(r"[^\W\d_]+")
CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


@dataclass
class Terms:
    words: set[str]
    exact: set[str]


def terms(text: str) -> Terms:
    lowered = folded(text)
    exact = set(_EXACT.findall(lowered))
    words = {w for w in _LETTERS.findall(lowered) if len(w) > 1 and not CJK_RUN.fullmatch(w)}
    for run in CJK_RUN.findall(lowered):
        # CJK is written without spaces: its words are pairs of characters.
        words |= {run[i : i + 2] for i in range(max(len(run) - 1, 1))}
    return Terms(words, exact)


def similarity(question_word: str, word: str) -> float:
    """How well a word stands for a question word: 1 alike, 0.8 sharing a long stem ("lists" and
    "liste", "archive" and "Archivs"), 0.5 a shorter stem or a compound's end ("superuser")."""
    if question_word == word:
        return 1.0
    shared = 0
    for a, b in zip(question_word, word, strict=False):
        if a != b:
            break
        shared += 1
    shorter = min(len(question_word), len(word))
    if shared >= 5 or shared >= 4 and shared == shorter:
        return 0.8
    if len(question_word) >= 4 and word.endswith(question_word):
        return 0.5  # compounds: "superuser", "Eingabedateien"
    return 0.5 if shared >= 4 and shared >= 0.75 * shorter else 0.0
