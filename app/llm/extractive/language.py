"""Telling a passage's language, and which of the documents' languages a question is in."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# The probability py3langid gives its best guess, above which a passage's own language is taken
# over its chunk's. Set with the first answerer on the tests' translated man pages, whose
# untranslated English paragraphs score above it; no set's figure moves from 0.5 to 1 (always
# the chunk's), the support set gains 1 at 0 (always the passage's own guess).
SURE = 0.5


@functools.cache
def _identifier() -> LanguageIdentifier:
    # The model ships inside the wheel; loading it takes about a second and 140 MB, once per
    # process, and only where the extractive answerer runs.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_up() -> None:
    _identifier()


def language_of(text: str, default: str = "") -> str:
    """The ISO 639 code of the text's most likely language, or `default` when it is unsure.

    Translated man pages keep untranslated paragraphs, so a chunk's language is not always its
    sentences' language.
    """
    language, confidence = _identifier().classify(text[:2000])
    return str(language) if confidence >= SURE or not default else default


def closest_language(text: str, languages: Iterable[str]) -> str:
    """Which of `languages` a short text (a question) is most likely written in.

    Choosing among the languages the documents have is far more reliable on a few words than
    naming the language outright ("Codename of Ubuntu 20.04?" is Xhosa to the open question).
    """
    likelihood = dict(_identifier().rank(text))
    return max(languages, key=lambda language: likelihood.get(language, 0.0))
