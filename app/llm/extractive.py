"""An answer without any language model: the one or two passages of the retrieved context that
answer the question, each followed by the number of its source.

It lets the product work with no LLM key at all, and it cannot invent anything: the answer is
the documents' own words (a table row shows only the fields the question asks for), plus the
citation markers.

How a passage is chosen: every question term it shares counts by how rare the term is across the
context's passages (IDF), so "the" counts for little and "--list" for much; numbers, options and
codes such as "20.04" count only when they are exactly there, and three times over; words match
across inflections and close languages by a shared stem ("lists" and "liste", "archive" and
"Archivs"). Retrieval's order adds a little, to break near-ties. When the documents have the
question's language, passages in other languages count less.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from app.core.config import Settings
from app.llm.base import (
    Completion,
    ContextChunk,
    LLMProvider,
    LLMRequest,
    Stop,
    TokenCounter,
    Usage,
)
from app.llm.function_words import FUNCTION_WORDS
from app.llm.function_words import folded as _folded
from app.llm.passages import (
    OPTION_WORDS,
    Passage,
    closest_language,
    language_of,
    passages,
    warm_up,
)
from app.llm.registry import register

NOT_FOUND = "I couldn't find this in the documents."
WORDS_PER_DELTA = 4
_WORD_WITH_SPACE = re.compile(r"\S+\s*")

# Exact tokens: options (-t, --list), numbers and dates (20.04, 2022-04-21), codes (lzma2, x3).
_EXACT = re.compile(r"(?<![\w-])--?[^\W\d_][\w-]*|\d+(?:[.,:/-]\d+)*|[^\W\d_]+\d\w*")
_LETTERS = re.compile(r"[^\W\d_]+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
EXACT_WEIGHT = 3.0
# "what", "quelle", "welche": they shape the question, they do not say what it is about.
FUNCTION_WEIGHT = 0.1
# Retrieval's rank: the best chunk's passages get this much more (of a full match's 1.0)...
RANK_WEIGHT = 0.15
# ...and up to this much more by the chunk's retrieval score against the best one's (to the 4th
# power: a chunk scored well below the best gets little). Retrieval compares meanings, across
# languages too, which the terms counted here cannot; where it barely separates the chunks
# (bare vector similarities within a few hundredths), this adds little.
RETRIEVAL_WEIGHT = 0.4
# How much an FAQ's question counts against its answer's text.
ASKED = 0.8
# A question term only in the source's name counts this much: the document is about it.
LABEL = 0.5
# A heading or defined term over a passage that matches the question adds this much of its match.
TOPIC = 0.25
# "Which option …?" asks for an option line, not a sentence that mentions options.
OPTION = 1.3
# A sentence that quotes what the question names ('"Larger Work" means …', 'If the Work includes
# a "NOTICE" text file …') is about it, not one that only uses the words.
QUOTED = 1.3
_QUOTED_TERM = re.compile(r'["“«„]\s*([^"“”«»„]{2,60}?)\s*["”»“]')
# A passage in another language than the question's, when the documents have the question's.
OTHER_LANGUAGE = 0.6
# A sentence the chunk's edge cut: its whole version may be in the neighbouring chunk.
FRAGMENT = 0.7
# Long passages share words with any question: one twice the average length counts 1/1.5.
LENGTH_PENALTY = 0.5
# A second passage is quoted when it adds question terms and scores this share of the first,
# or, when it is the sentence before or after the first, this share.
SECOND_SHARE = 0.8
BESIDE_SHARE = 0.75
# A single best sentence is quoted with the next one while both fit in this many characters.
WINDOW_CHARS = 320
_FINAL_PUNCTUATION = re.compile(r"([.!?。！？…]+[\"'”»)\]]*)$")


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    source: int  # 1-based: the chunk's place in request.context, which is the sources' order
    retrieval: float  # the chunk's retrieval score over the best chunk's (1 for the best)
    position: int  # the passage's place in its chunk
    language: str
    label: str  # the source's name (file name, page title): what the whole passage is about


@dataclass
class _Terms:
    words: set[str]
    exact: set[str]


class ExtractiveProvider(LLMProvider):
    """No language model runs, so nothing is billed: its usage records carry zero tokens (and
    `provider = "extractive"`), count as questions in the reports, and take nothing from the
    monthly allowance."""

    name = "extractive"
    billed = False

    def __init__(self, count_tokens: TokenCounter) -> None:
        self._count_tokens = count_tokens
        warm_up()  # the language model loads in about a second: at start-up, not in an answer

    def complete(self, request: LLMRequest) -> Completion:
        text = extractive_answer(request.question, request.context)
        return Completion(
            text=text,
            usage=Usage(0, 0),
            model=self.name,
            provider=self.name,
        )

    def stream(self, request: LLMRequest, stop: Stop | None = None) -> Iterator[str | Completion]:
        completion = self.complete(request)
        words = _WORD_WITH_SPACE.findall(completion.text)
        for start in range(0, len(words), WORDS_PER_DELTA):
            if stop is not None and stop.requested:
                text = "".join(words[:start])
                yield replace(completion, text=text, interrupted=True)
                return
            yield "".join(words[start : start + WORDS_PER_DELTA])
        yield completion


def extractive_answer(question: str, context: list[ContextChunk]) -> str:
    candidates = _deduplicated(_candidates(context))
    if not candidates:
        return NOT_FOUND
    scorer = _Scorer(question, candidates)
    # best first by match and retrieval together; a second passage is judged by its match alone
    scored = sorted(
        ((scorer.score(c), c) for c in candidates if scorer.answers(c)),
        key=lambda pair: pair[0] + scorer.support(pair[1]),
        reverse=True,
    )
    if not scored:
        # Quoting the best chunk's opening instead would answer something else than was asked.
        return NOT_FOUND
    top, best = scored[0]
    chosen = [best]
    # An option line, a table row or an FAQ's answer is whole; a sentence may need its neighbour.
    seconds = scored[1:] if best.passage.kind == "sentence" else []
    covered = scorer.covered(best)
    for score, candidate in seconds:
        beside = candidate.source == best.source and abs(candidate.position - best.position) == 1
        if (
            beside
            and score >= BESIDE_SHARE * top
            or score >= SECOND_SHARE * top
            and scorer.covered(candidate) - covered
        ):
            chosen.append(candidate)
            break
    if len(chosen) == 1 and best.passage.kind == "sentence":
        chosen += _window(best, candidates)
    if len(chosen) == 2 and chosen[0].source == chosen[1].source:
        chosen.sort(key=lambda c: c.position)
    return " ".join(_cite(c, scorer) for c in chosen)


def _window(best: _Candidate, candidates: list[_Candidate]) -> list[_Candidate]:
    """The sentence after a short best sentence, under the same topic: an answer often states
    its point in one sentence and gives the figure, the command or the reason in the next."""
    after = next(
        (c for c in candidates if c.source == best.source and c.position == best.position + 1),
        None,
    )
    if (
        after is None
        or after.passage.kind != "sentence"
        or after.passage.topic != best.passage.topic
        or len(best.passage.shown) + len(after.passage.shown) > WINDOW_CHARS
    ):
        return []
    return [after]


def _candidates(context: list[ContextChunk]) -> list[_Candidate]:
    found = []
    best = max((chunk.score for chunk in context), default=0.0)
    for number, chunk in enumerate(context, 1):
        retrieval = max(chunk.score, 0.0) / best if best > 0 else 1.0
        language = language_of(chunk.text)
        for position, passage in enumerate(passages(chunk.text, language)):
            own = language_of(passage.shown, default=language)
            found.append(_Candidate(passage, number, retrieval, position, own, chunk.label))
    return found


def _deduplicated(candidates: list[_Candidate]) -> list[_Candidate]:
    """One of each passage that overlapping chunks repeat: the whole one where a chunk's edge cut
    the other, else the better-ranked chunk's."""
    kept: list[tuple[str, _Candidate]] = []
    for candidate in candidates:
        key = " ".join(_folded(candidate.passage.shown).split())
        for i, (seen, _) in enumerate(kept):
            if key == seen or _within(key, seen):
                break
            if _within(seen, key):
                kept[i] = (key, candidate)
                break
        else:
            kept.append((key, candidate))
    return [candidate for _, candidate in kept]


def _within(short: str, long: str) -> bool:
    return len(short.split()) >= 5 and short in long


class _Scorer:
    """Scores candidates against one question, with term weights taken across all of them."""

    def __init__(self, question: str, candidates: list[_Candidate]) -> None:
        self.question = _terms(question)
        self._terms = {id(c): _terms(c.passage.matched) for c in candidates}
        self._asked = {id(c): _terms(c.passage.asked) for c in candidates if c.passage.asked}
        self._topic = {id(c): _terms(c.passage.topic) for c in candidates if c.passage.topic}
        self._label = {id(c): _terms(c.label) for c in candidates}
        self._shown = {id(c): _terms(c.passage.shown) for c in candidates}
        self._asks_option = any(_similarity(w, "option") for w in self.question.words) or bool(
            self.question.words & OPTION_WORDS
        )
        every = [self._terms, self._asked, self._topic, self._label, self._shown]
        vocabulary = set().union(*(t.words for terms in every for t in terms.values()))
        # how well each context word stands for each question word (1 alike, 0.5 a stem away)
        self._similar = {
            q: {w: s for w in vocabulary if (s := _similarity(q, w))} for q in self.question.words
        }
        count = len(candidates)
        self._weight: dict[str, float] = {}
        for term in self.question.words | self.question.exact:
            frequency = sum(1 for t in self._terms.values() if self._strength(term, t) > 0)
            boost = EXACT_WEIGHT if term in self.question.exact else 1.0
            if term in FUNCTION_WORDS:
                boost = FUNCTION_WEIGHT
            self._weight[term] = boost * math.log(1 + count / max(frequency, 1))
        self._total = sum(self._weight.values()) or 1.0
        self._average_length = sum(_length(c) for c in candidates) / count
        languages = {c.language for c in candidates}
        self._language = (
            closest_language(question, languages) if len(languages) > 1 and question else None
        )

    def _strength(self, term: str, terms: _Terms) -> float:
        if term in self.question.exact:
            return 1.0 if term in terms.exact else 0.0
        similar = self._similar[term]
        return max((similar.get(w, 0.0) for w in terms.words), default=0.0)

    def _coverage(self, terms: _Terms) -> float:
        return sum(w * self._strength(t, terms) for t, w in self._weight.items()) / self._total

    def _precision(self, terms: _Terms) -> float:
        """The share of a text's content terms that the question has."""
        words = terms.words - FUNCTION_WORDS
        alike = {w for w in words if self._asks_about(w)}
        exact = terms.exact & self.question.exact
        return (len(alike) + len(exact)) / max(len(words) + len(terms.exact), 1)

    def relevance(self, candidate: _Candidate) -> float:
        """How much of the question the passage covers, by term weight (0 to 1 and a little)."""
        key = id(candidate)
        label = self._label[key]
        # What the answer quotes counts as much as the rest of the passage (an option's whole
        # description, an FAQ answer's later sentences): half the match is in the quoted part.
        coverage = (
            sum(
                weight
                * max(
                    (self._strength(t, self._terms[key]) + self._strength(t, self._shown[key])) / 2,
                    LABEL * self._strength(t, label),
                )
                for t, weight in self._weight.items()
            )
            / self._total
        )
        if asked := self._asked.get(key):
            # An FAQ's question says what its answer is about better than the answer does, the
            # more so the less it asks besides.
            match = self._coverage(asked) * math.sqrt(self._precision(asked))
            coverage = ASKED * match + (1 - ASKED) * coverage
        if topic := self._topic.get(key):
            coverage += TOPIC * self._coverage(topic)
        return coverage

    def score(self, candidate: _Candidate) -> float:
        score = self.relevance(candidate)
        score /= 1 + LENGTH_PENALTY * max(0.0, _length(candidate) / self._average_length - 1)
        if candidate.passage.fragment:
            score *= FRAGMENT
        if self._language and candidate.language != self._language:
            score *= OTHER_LANGUAGE
        if self._asks_option and candidate.passage.kind == "option":
            score *= OPTION
        if candidate.passage.kind == "sentence" and self._quotes_question(candidate):
            score *= QUOTED
        return score + RANK_WEIGHT / candidate.source

    def support(self, candidate: _Candidate) -> float:
        """What retrieval's score of the passage's chunk adds to its match."""
        return RETRIEVAL_WEIGHT * candidate.retrieval**4

    def _quotes_question(self, candidate: _Candidate) -> bool:
        """Whether the passage quotes a term (of up to four words) all of whose words the
        question has."""
        for term in _QUOTED_TERM.findall(candidate.passage.shown):
            words = _terms(term).words - FUNCTION_WORDS
            if 0 < len(words) <= 4 and all(self._asks_about(w) for w in words):
                return True
        return False

    def _asks_about(self, word: str) -> bool:
        """Whether a question word stands for the word (alike, or a stem away)."""
        return any(similar.get(word, 0.0) >= 0.5 for similar in self._similar.values())

    def answers(self, candidate: _Candidate) -> bool:
        """Whether the passage can answer at all: it shares a content term with the question,
        and a table row has the number or code the question names (20.04 is not 20.10)."""
        if candidate.passage.kind == "record" and self.question.exact:
            return bool(self.question.exact & self._terms[id(candidate)].exact)
        return bool(self.covered(candidate))

    def covered(self, candidate: _Candidate) -> set[str]:
        """The question's content terms the passage has."""
        terms, label = self._terms[id(candidate)], self._label[id(candidate)]
        return {
            t
            for t in self._weight
            if t not in FUNCTION_WORDS
            and max(self._strength(t, terms), self._strength(t, label)) >= 0.5
        }

    def fields(self, passage: Passage) -> tuple[tuple[str, str], ...]:
        """The fields of a table row the question asks for, with the row's first (its name)."""
        asked = [
            i
            for i, (key, value) in enumerate(passage.fields)
            if i == 0
            or any(self._strength(t, _terms(key)) >= 0.8 for t in self.question.words)
            or any(self._strength(t, _terms(value)) for t in self.question.exact)
        ]
        if len(asked) <= 1:
            return passage.fields
        return tuple(passage.fields[i] for i in asked)


def _cite(candidate: _Candidate, scorer: _Scorer) -> str:
    """The passage with its source's number before its final punctuation: `… contents [1].`"""
    passage = candidate.passage
    text = passage.shown
    if passage.kind == "record":
        text = "; ".join(f"{key}: {value}" for key, value in scorer.fields(passage))
    marker = f"[{candidate.source}]"
    match = _FINAL_PUNCTUATION.search(text)
    if match and text[: match.start()].endswith(" "):
        match = None  # the dot is a word: "do not ignore entries starting with ."
    body, end = (text[: match.start()], match.group(1)) if match else (text, "")
    cjk = bool(_CJK_RUN.search(body[-1:]))
    return f"{body}{'' if cjk else ' '}{marker}{end or ('。' if cjk else '.')}"


def _length(candidate: _Candidate) -> int:
    return len(candidate.passage.shown.split()) + len(candidate.passage.asked.split())


def _terms(text: str) -> _Terms:
    folded = _folded(text)
    exact = set(_EXACT.findall(folded))
    words = {w for w in _LETTERS.findall(folded) if len(w) > 1 and not _CJK_RUN.fullmatch(w)}
    for run in _CJK_RUN.findall(folded):
        # CJK is written without spaces: its words are pairs of characters.
        words |= {run[i : i + 2] for i in range(max(len(run) - 1, 1))}
    return _Terms(words, exact)


def _similarity(question_word: str, word: str) -> float:
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


@register("extractive")
def _from_settings(settings: Settings, count_tokens: TokenCounter) -> ExtractiveProvider:
    return ExtractiveProvider(count_tokens=count_tokens)
