"""Building what the LLM reads: system prompt, retrieved sources, recent turns, the question."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.llm import ContextChunk, TokenCounter
from app.llm.function_words import FUNCTION_WORDS, folded

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


# How a follow-up opens: "and on Windows?", "what about its default?", "und unter Windows?",
# "et pour les fichiers ?", "¿y en Windows?" (matched on folded, lower-case words).
_FOLLOW_UP_OPENINGS = (
    "and",
    "also",
    "but",
    "or",
    "what about",
    "how about",
    "same",
    "und",
    "aber",
    "oder",
    "und was",
    "was ist mit",
    "et",
    "mais",
    "ou",
    "qu en est il",
    "y",
    "pero",
    "e",
    "ma",
    "mas",
    "en",
    "maar",
)
# Words that point back at what was said before, when the question opens with them: "does it
# support TLS?", "what does this option do?", "kann man das abschalten?". Articles that are also
# pronouns ("das", "le") are left out: "Wie ändere ich das Passwort?" stands on its own.
_BACK_REFERENCES = frozenset(
    """
    it its they them their this these those there's afterwards
    es ihn ihm dies diese dieser dieses dafur dazu damit davon dabei darauf dort danach davor
    ca cela ceci celui celle ceux celles ensuite
    eso esto ello ese esa este esos esas ahi despues luego
    esso essa questo quello quella
    isso isto ele ela
    deze daarvan ervan
    """.split()
)
# A back-reference further into the question than this may point inside it ("What is the
# default port and how do I change it?").
_OPENING_WORDS = 6
_SHORT_QUESTION = 7
# A question of this many content words says too little to stand alone ("On Windows?").
_FEW_WORDS = 1
_WORDS = re.compile(r"[^\W_]+")


def follows_up(question: str) -> bool:
    """Whether the question needs the conversation to be understood: it opens like a follow-up,
    points back at something near its start, or says too little on its own.

    A question that stands on its own is retrieved on its own: mixing earlier questions into it
    answered a football question after three product questions with the product's text.
    """
    words = _WORDS.findall(folded(question))
    opening = " ".join(words[:4])
    if any(opening == o or opening.startswith(o + " ") for o in _FOLLOW_UP_OPENINGS):
        return True
    if any(word in _BACK_REFERENCES for word in words[:_OPENING_WORDS]):
        return True
    # "that" points back in a short question ("Can I change that size?"), and joins a clause
    # in a longer one ("Which option makes sure that every file is kept?")
    if "that" in words and len(words) <= _SHORT_QUESTION:
        return True
    return sum(word not in FUNCTION_WORDS for word in words) <= _FEW_WORDS


def retrieval_query(
    question: str,
    history: Sequence[Turn],
    count_tokens: TokenCounter,
    max_tokens: int,
    max_previous: int = 2,
) -> str:
    """The text retrieval searches for: the question, and before a follow-up (`follows_up`) the
    conversation's previous questions, within the query embedder's window.

    "And how much does it weigh?" alone matches every product; with the previous questions
    in front it matches the product the user was talking about. The current question comes last
    and carries most of the meaning, so it is kept whole when it fits and previous questions are
    added, most recent first, only while they fit: the embedder would cut the rest anyway, after
    paying to read it. Earlier answers are left out: they repeat retrieved text and would pull
    retrieval back to the same chunks.
    """
    query = clip_to_tokens(question, count_tokens, max_tokens)
    if not follows_up(question):
        return query
    for turn in reversed(history[-max_previous:]):
        longer = f"{turn.question} {query}"
        if count_tokens(longer) > max_tokens:
            break
        query = longer
    return query


def clip_to_tokens(text: str, count_tokens: TokenCounter, max_tokens: int) -> str:
    """The longest prefix of `text` (cut at a space where there is one) within `max_tokens`."""
    if count_tokens(text) <= max_tokens:
        return text
    low, high = 0, len(text)  # the longest fitting length lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if count_tokens(text[:middle]) <= max_tokens:
            low = middle
        else:
            high = middle
    clipped = text[:low]
    space = clipped.rfind(" ")
    return clipped[:space] if space > len(clipped) // 2 else clipped


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


def prompt_tokens(
    *,
    system_prompt: str,
    context: Sequence[ContextChunk],
    history: Sequence[Turn],
    question: str,
    count_tokens: TokenCounter,
) -> int:
    """The tokens of `build_messages`' messages, counted part by part: the instructions, each
    source's label and text, each turn, the question. Parts recur across questions (the same
    instructions, the same popular chunks; a chunk's count is recorded at ingestion), so with a
    memoizing counter a question costs a few lookups instead of tokenizing the whole prompt
    (docs/BENCHMARKS.md has both). Each part's count includes the model's special tokens,
    so the sum is a few tokens above the whole's: safe for a reservation."""
    instructions = f"{system_prompt.strip() or DEFAULT_SYSTEM_PROMPT}\n\n{GROUNDING}\n\nSources:"
    total = count_tokens(instructions) + count_tokens(question)
    for i, chunk in enumerate(context, start=1):
        text = chunk.tokens if chunk.tokens is not None else count_tokens(chunk.text)
        total += count_tokens(f"[{i}] ({chunk.label})") + text
    for turn in history:
        total += count_tokens(turn.question) + count_tokens(turn.answer)
    return total
