"""What is known about each candidate passage against one question: its feature record.

`Question` reads the question against every candidate of the context once (how rare each of its
terms is there, which context words stand for which question words), then gives each candidate
its `Features`, from which `scoring` computes the score.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from app.llm.extractive.candidates import Candidate
from app.llm.extractive.language import closest_language
from app.llm.extractive.passages import OPTION_WORDS, Passage
from app.llm.extractive.terms import Terms, similarity, terms
from app.llm.function_words import FUNCTION_WORDS

# An exact token (an option, a number, a code) the question has counts this many times a word:
# "20.04" or "--list" says what is asked more than "release" or "list". Fitted on the man-page
# set (eval_retrieval.json): at 1, fact 50 → 49 of 77; the support set would gain 2 of 61, so
# it stays (a change that helps one set and hurts another is not kept).
EXACT_WEIGHT = 3.0
# "what", "quelle", "welche": they shape the question, they do not say what it is about. Fitted on
# the man-page set: at 1, fact 50 → 49 and lead 47 → 45 of 77 (the support set would gain 3).
FUNCTION_WEIGHT = 0.1
# A question term only in the source's name counts this much of a term in the passage: the
# document is about it. Fitted on all three sets: at 0, fact 50 → 49 (man pages), 16 → 14 of 25
# (held-out); the support set would gain 1.
LABEL = 0.5
_QUOTED_TERM = re.compile(r'["“«„]\s*([^"“”«»„]{2,60}?)\s*["”»“]')


@dataclass(frozen=True)
class Features:
    """One candidate passage against the question; `scoring.score` is a function of these."""

    kind: str  # the passage's kind: "sentence", "option", "record" or "answer"
    # The question's terms the passage has, weighted by their rarity in the context (IDF), as a
    # share of all of them: half counted in what the answer quotes, half in what the passage is
    # matched by (an option's whole description, an FAQ answer's later sentences); a term only
    # in the source's name counts LABEL of itself.
    overlap: float
    # For an FAQ's answer: the same share in the question it answers, and the share of that
    # question's content words the asker's question has (None for other passages).
    asked_overlap: float | None
    asked_precision: float
    topic_overlap: float  # the same share in the heading or defined term over the passage
    length_ratio: float  # its words over the context's average passage's
    fragment: bool  # a sentence the chunk's edge cut: its whole may be in the next chunk
    other_language: bool  # in another language than the question's, which the context has
    option_asked: bool  # an option line, and the question asks for an option
    quotes_question: bool  # a sentence that quotes a term the question names ('"Larger Work"')
    retrieval: float  # its chunk's retrieval score over the best chunk's
    covered: frozenset[str]  # the question's content terms it has, in itself or its source's name
    exact_missing: bool  # the question names numbers or codes and the passage has none of them


class Question:
    """The question read against all the context's candidates, with term weights taken across
    them."""

    def __init__(self, text: str, candidates: list[Candidate]) -> None:
        self.terms = terms(text)
        self._terms = {id(c): terms(c.passage.matched) for c in candidates}
        self._asked = {id(c): terms(c.passage.asked) for c in candidates if c.passage.asked}
        self._topic = {id(c): terms(c.passage.topic) for c in candidates if c.passage.topic}
        self._label = {id(c): terms(c.label) for c in candidates}
        self._shown = {id(c): terms(c.passage.shown) for c in candidates}
        self._asks_option = any(similarity(w, "option") for w in self.terms.words) or bool(
            self.terms.words & OPTION_WORDS
        )
        every = [self._terms, self._asked, self._topic, self._label, self._shown]
        vocabulary = set().union(*(t.words for found in every for t in found.values()))
        # how well each context word stands for each question word (1 alike, 0.5 a stem away)
        self._similar = {
            q: {w: s for w in vocabulary if (s := similarity(q, w))} for q in self.terms.words
        }
        count = len(candidates)
        self._weight: dict[str, float] = {}
        for term in self.terms.words | self.terms.exact:
            frequency = sum(1 for t in self._terms.values() if self._strength(term, t) > 0)
            boost = EXACT_WEIGHT if term in self.terms.exact else 1.0
            if term in FUNCTION_WORDS:
                boost = FUNCTION_WEIGHT
            self._weight[term] = boost * math.log(1 + count / max(frequency, 1))
        self._total = sum(self._weight.values()) or 1.0
        self._average_length = sum(_length(c) for c in candidates) / count
        languages = {c.language for c in candidates}
        self._language = closest_language(text, languages) if len(languages) > 1 and text else None

    def features(self, candidate: Candidate) -> Features:
        key = id(candidate)
        passage = candidate.passage
        asked = self._asked.get(key)
        topic = self._topic.get(key)
        return Features(
            kind=passage.kind,
            overlap=self._overlap(candidate),
            asked_overlap=self._coverage(asked) if asked is not None else None,
            asked_precision=self._precision(asked) if asked is not None else 0.0,
            topic_overlap=self._coverage(topic) if topic is not None else 0.0,
            length_ratio=_length(candidate) / self._average_length,
            fragment=passage.fragment,
            other_language=bool(self._language) and candidate.language != self._language,
            option_asked=self._asks_option and passage.kind == "option",
            quotes_question=passage.kind == "sentence" and self._quotes_question(passage),
            retrieval=candidate.retrieval,
            covered=frozenset(self._covered(candidate)),
            exact_missing=bool(self.terms.exact) and not self.terms.exact & self._terms[key].exact,
        )

    def fields(self, passage: Passage) -> tuple[tuple[str, str], ...]:
        """The fields of a table row the question asks for, with the row's first (its name)."""
        asked = [
            i
            for i, (key, value) in enumerate(passage.fields)
            if i == 0
            or any(self._strength(t, terms(key)) >= 0.8 for t in self.terms.words)
            or any(self._strength(t, terms(value)) for t in self.terms.exact)
        ]
        if len(asked) <= 1:
            return passage.fields
        return tuple(passage.fields[i] for i in asked)

    def _strength(self, term: str, found: Terms) -> float:
        if term in self.terms.exact:
            return 1.0 if term in found.exact else 0.0
        similar = self._similar[term]
        return max((similar.get(w, 0.0) for w in found.words), default=0.0)

    def _coverage(self, found: Terms) -> float:
        return sum(w * self._strength(t, found) for t, w in self._weight.items()) / self._total

    def _overlap(self, candidate: Candidate) -> float:
        key = id(candidate)
        matched, shown, label = self._terms[key], self._shown[key], self._label[key]
        return (
            sum(
                weight
                * max(
                    (self._strength(t, matched) + self._strength(t, shown)) / 2,
                    LABEL * self._strength(t, label),
                )
                for t, weight in self._weight.items()
            )
            / self._total
        )

    def _precision(self, found: Terms) -> float:
        """The share of a text's content terms that the question has."""
        words = found.words - FUNCTION_WORDS
        alike = {w for w in words if self._asks_about(w)}
        exact = found.exact & self.terms.exact
        return (len(alike) + len(exact)) / max(len(words) + len(found.exact), 1)

    def _quotes_question(self, passage: Passage) -> bool:
        """Whether the passage quotes a term (of up to four words) all of whose words the
        question has."""
        for term in _QUOTED_TERM.findall(passage.shown):
            words = terms(term).words - FUNCTION_WORDS
            if 0 < len(words) <= 4 and all(self._asks_about(w) for w in words):
                return True
        return False

    def _asks_about(self, word: str) -> bool:
        """Whether a question word stands for the word (alike, or a stem away)."""
        return any(similar.get(word, 0.0) >= 0.5 for similar in self._similar.values())

    def _covered(self, candidate: Candidate) -> set[str]:
        found, label = self._terms[id(candidate)], self._label[id(candidate)]
        return {
            t
            for t in self._weight
            if t not in FUNCTION_WORDS
            and max(self._strength(t, found), self._strength(t, label)) >= 0.5
        }


def _length(candidate: Candidate) -> int:
    return len(candidate.passage.shown.split()) + len(candidate.passage.asked.split())
