"""Building what the LLM reads: system prompt, retrieved sources, recent turns, the question."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.llm import ContextChunk, TokenCounter

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant for this company's customers."

GROUNDING = (
    "Answer only from the numbered sources below. Cite the sources you use as [1], [2]. "
    "If the sources do not contain the answer, say that you don't know; never invent facts. "
    "Answer in the language of the question."
)

NOT_FOUND_ANSWER = (
    "I couldn't find anything about this in the documents I have. "
    "Could you rephrase the question, or ask about another topic?"
)


@dataclass(frozen=True)
class Turn:
    question: str
    answer: str


def source_label(filename: str, page: object = None, heading: object = None) -> str:
    where = f", p. {page}" if page else (f", section “{heading}”" if heading else "")
    return f"{filename}{where}"


def recent_turns(turns: Sequence[Turn], budget: int, count_tokens: TokenCounter) -> list[Turn]:
    """The most recent turns that fit in `budget` tokens, oldest first."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        cost = count_tokens(turn.question) + count_tokens(turn.answer)
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    return kept[::-1]


def retrieval_query(question: str, history: Sequence[Turn], max_previous: int = 2) -> str:
    """Condense a follow-up with the conversation so retrieval sees what it refers to.

    "And how much does it weigh?" alone matches every product; with the previous questions
    in front it matches the product the user was talking about. The current question comes last
    and carries most of the meaning. Earlier answers are left out: they repeat retrieved text and
    would pull retrieval back to the same chunks.
    """
    previous = [turn.question for turn in history[-max_previous:]]
    return " ".join([*previous, question])


def build_messages(
    *,
    system_prompt: str,
    context: Sequence[ContextChunk],
    history: Sequence[Turn],
    question: str,
) -> list[dict[str, str]]:
    sources = "\n\n".join(
        f"[{i}] ({chunk.label})\n{chunk.text}" for i, chunk in enumerate(context, start=1)
    )
    system = (
        f"{system_prompt.strip() or DEFAULT_SYSTEM_PROMPT}\n\n{GROUNDING}\n\nSources:\n{sources}"
    )
    messages = [{"role": "system", "content": system}]
    for turn in history:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.answer})
    messages.append({"role": "user", "content": question})
    return messages
