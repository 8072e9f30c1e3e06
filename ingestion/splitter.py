"""Cut sections into chunks sized in characters, none longer than the embedding model can read.

Chunk size is configured in characters because that is what people can picture, but the model
truncates by tokens: a chunk of CJK text, digits or code can hold far more tokens than characters
suggest. Such chunks are split again by tokens, and as a last resort cut at whatever character
boundary fits, so no text is ever truncated away by the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingestion.errors import IngestionCancelled, TooManyChunks
from ingestion.sections import Section, kind_of

# Sentence ends are kept with the sentence (keep_separator="end") when splitting by tokens.
_TOKEN_SEPARATORS = ["\n\n", "\n", ". ", "。", " "]
# A long section reaches the character splitter this many chunk sizes at a time, so that a
# document past its plan's chunk cap stops after one window rather than after all of it.
WINDOW_CHUNKS = 64


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    metadata: dict[str, str | int] = field(default_factory=dict)


def split(
    sections: Iterable[Section],
    *,
    chunk_size: int,
    chunk_overlap: int,
    count_tokens: Callable[[str], int],
    max_tokens: int,
    max_chunks: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Chunk]:
    """Split sections into chunks numbered 0..n-1 across the document, each within max_tokens.
    Past `max_chunks` chunks it stops and raises `TooManyChunks`; it asks `should_stop` at every
    window of text and raises `IngestionCancelled` on a yes.

    Each chunk's metadata carries `tokens`, its count as the model reads it (prefix and special
    tokens included), so the question path need not count the chunks it quotes again, and
    `kind`, that of most of its text (`ingestion.sections`).
    """
    by_characters = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap
    )
    fit = _TokenFitter(count_tokens, max_tokens)
    chunks: list[Chunk] = []
    window = WINDOW_CHUNKS * chunk_size
    for section in sections:
        if section.whole:
            texts: Iterable[str] = [section.text]
        else:
            texts = (
                text
                for part in _windows(section.text, window, should_stop)
                for text in by_characters.split_text(part)
            )
        where = _Locator(section)
        for text in texts:
            for piece, tokens in fit(text):
                if piece.strip():
                    if max_chunks is not None and len(chunks) >= max_chunks:
                        raise TooManyChunks(f"The document has more than {max_chunks:,} chunks.")
                    metadata = {**section.metadata, "kind": where.kind(piece), "tokens": tokens}
                    chunks.append(Chunk(len(chunks), piece, metadata))
    return chunks


class _Locator:
    """Finds each chunk in its section's text, in order (chunks overlap, never go back), to
    give it the kind of most of its characters."""

    def __init__(self, section: Section) -> None:
        self._section = section
        self._from = 0

    def kind(self, piece: str) -> str:
        if not self._section.spans:
            return kind_of(self._section, 0, 0)
        start = self._section.text.find(piece, self._from)
        if start < 0:  # a piece the splitters changed (they only cut): the section's own kind
            return kind_of(self._section, 0, 0)
        self._from = start + 1
        return kind_of(self._section, start, start + len(piece))


def _windows(text: str, size: int, should_stop: Callable[[], bool] | None = None) -> Iterator[str]:
    """The text in consecutive parts of about `size` characters, each ending at a paragraph,
    line or word break in its last quarter when there is one (a hard cut otherwise): the
    splitter then cuts where it would have in the whole text, except at the few part ends."""
    start = 0
    while len(text) - start > size:
        if should_stop is not None and should_stop():
            raise IngestionCancelled(f"stopped while splitting, at character {start:,}")
        end = start + size
        floor = end - size // 4
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = text.rfind(separator, floor, end)
            if cut > start:
                break
        if cut <= start:
            cut = end
        yield text[start:cut]
        start = cut
    yield text[start:]


class _TokenFitter:
    """Splits a text into pieces that each count at most max_tokens, as the model counts them."""

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int) -> None:
        self._count_tokens = count_tokens
        self._max_tokens = max_tokens
        # Every count includes the special tokens and any prefix the model adds; pieces being
        # merged are measured without them, or each word would be charged for them again.
        self._overhead = count_tokens("")
        if max_tokens <= self._overhead + 1:
            raise ValueError(f"max_tokens={max_tokens} leaves no room for text")

    def __call__(self, text: str) -> list[tuple[str, int]]:
        """The pieces, each with its token count."""
        tokens = self._count_tokens(text)
        if tokens <= self._max_tokens:
            return [(text, tokens)]

        # The recursive splitter measures the same pieces several times while merging them.
        @functools.cache
        def content_tokens(piece: str) -> int:
            return self._count_tokens(piece) - self._overhead

        by_tokens = RecursiveCharacterTextSplitter(
            separators=_TOKEN_SEPARATORS,
            keep_separator="end",
            chunk_size=self._max_tokens - self._overhead,
            chunk_overlap=0,
            length_function=content_tokens,
        )
        pieces = []
        for piece in by_tokens.split_text(text):
            tokens = content_tokens(piece) + self._overhead
            if tokens <= self._max_tokens:
                pieces.append((piece, tokens))
            else:
                pieces.extend((cut, self._count_tokens(cut)) for cut in self._cut(piece))
        return pieces

    def _cut(self, text: str) -> list[str]:
        """Cut text that has no usable separator at the longest prefixes that fit."""
        pieces = []
        while self._count_tokens(text) > self._max_tokens:
            # Binary search; `shortest` only ever takes lengths verified to fit (or 1).
            shortest, longest = 1, len(text) - 1
            while shortest < longest:
                middle = (shortest + longest + 1) // 2
                if self._count_tokens(text[:middle]) <= self._max_tokens:
                    shortest = middle
                else:
                    longest = middle - 1
            pieces.append(text[:shortest])
            text = text[shortest:]
        pieces.append(text)
        return pieces
