"""The answer: the best candidate, with a second passage or the next sentence where it needs
them, each followed by its source's number."""

from __future__ import annotations

import re

from app.llm.base import ContextChunk
from app.llm.extractive.candidates import Candidate, candidates
from app.llm.extractive.features import Features, Question
from app.llm.extractive.scoring import answers, score, support
from app.llm.extractive.terms import CJK_RUN

NOT_FOUND = "I couldn't find this in the documents."
# A second passage is quoted when it adds question terms and scores this share of the first
# (never: fact 50 → 49, 16 → 15, 34 → 33), or, when it is the sentence before or after the
# first, this share (never: fact 16 → 15 of 25, held-out).
SECOND_SHARE = 0.8
BESIDE_SHARE = 0.75
# A single best sentence is quoted with the next one while both fit in this many characters.
# Fitted on the support set: at 0, fact 34 → 32 of 61; 320 → 480 (rank no longer scored, short
# lines no longer headings) 38 → 39, the other sets unchanged; 640 adds nothing more.
WINDOW_CHARS = 480
_FINAL_PUNCTUATION = re.compile(r"([.!?。！？…]+[\"'”»)\]]*)$")


def extractive_answer(question: str, context: list[ContextChunk]) -> str:
    found = candidates(context)
    if not found:
        return NOT_FOUND
    reading = Question(question, found)
    records = [(c, reading.features(c)) for c in found]
    # best first by match and retrieval together; a second passage is judged by its match alone
    scored = sorted(
        ((score(f), c, f) for c, f in records if answers(f)),
        key=lambda entry: entry[0] + support(entry[2]),
        reverse=True,
    )
    if not scored:
        # Quoting the best chunk's opening instead would answer something else than was asked.
        return NOT_FOUND
    top, best, best_features = scored[0]
    chosen = [best]
    # An option line, a table row or an FAQ's answer is whole; a sentence may need its neighbour.
    if best.passage.kind == "sentence":
        chosen += _second(scored, best, best_features) or _window(best, found)
    if len(chosen) == 2 and chosen[0].source == chosen[1].source:
        chosen.sort(key=lambda c: c.position)
    return " ".join(_cite(c, reading) for c in chosen)


def _second(
    scored: list[tuple[float, Candidate, Features]], best: Candidate, best_features: Features
) -> list[Candidate]:
    """A passage that scores nearly as well as the best: beside it, or adding question terms."""
    top = scored[0][0]
    for value, candidate, features in scored[1:]:
        beside = candidate.source == best.source and abs(candidate.position - best.position) == 1
        if (
            beside
            and value >= BESIDE_SHARE * top
            or value >= SECOND_SHARE * top
            and features.covered - best_features.covered
        ):
            return [candidate]
    return []


def _window(best: Candidate, found: list[Candidate]) -> list[Candidate]:
    """The sentence after a short best sentence, under the same topic: an answer often states
    its point in one sentence and gives the figure, the command or the reason in the next."""
    after = next(
        (c for c in found if c.source == best.source and c.position == best.position + 1),
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


def _cite(candidate: Candidate, reading: Question) -> str:
    """The passage with its source's number before its final punctuation: `… contents [1].`"""
    passage = candidate.passage
    text = passage.shown
    if passage.kind == "record":
        text = "; ".join(f"{key}: {value}" for key, value in reading.fields(passage))
    marker = f"[{candidate.source}]"
    match = _FINAL_PUNCTUATION.search(text)
    if match and text[: match.start()].endswith(" "):
        match = None  # the dot is a word: "do not ignore entries starting with ."
    body, end = (text[: match.start()], match.group(1)) if match else (text, "")
    cjk = bool(CJK_RUN.search(body[-1:]))
    return f"{body}{'' if cjk else ' '}{marker}{end or ('。' if cjk else '.')}"
