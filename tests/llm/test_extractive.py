from __future__ import annotations

from app.llm import Completion, ContextChunk, LLMRequest
from app.llm.extractive import NOT_FOUND, ExtractiveProvider

MANUAL = ContextChunk(
    text=(
        "Welcome to the X3 pump. The pump runs at 5 bar of pressure!\n"
        "Clean the filter every month. Keep children away."
    ),
    label="manual.pdf, p. 3",
    score=0.9,
)
WARRANTY = ContextChunk(
    text="The warranty lasts two years. It covers the pump motor and the filter housing.",
    label="warranty.docx",
    score=0.8,
)


def count_characters(text: str) -> int:
    return len(text)


def ask(question: str, context: list[ContextChunk]) -> LLMRequest:
    return LLMRequest(
        messages=[
            {"role": "system", "content": "Answer from the context."},
            {"role": "user", "content": question},
        ],
        model="unused",
        temperature=0.0,
        max_tokens=100,
        question=question,
        context=context,
    )


def answer(question: str, context: list[ContextChunk]) -> str:
    return ExtractiveProvider(count_characters).complete(ask(question, context)).text


def test_quotes_the_most_relevant_sentence_with_its_label() -> None:
    text = answer("What pressure does the pump run at?", [MANUAL, WARRANTY])

    assert text.splitlines()[0] == (
        'According to manual.pdf, p. 3: "The pump runs at 5 bar of pressure!"'
    )


def test_quotes_at_most_three_sentences_by_weighted_overlap_times_chunk_score() -> None:
    text = answer("pump pressure filter warranty", [WARRANTY, MANUAL])

    # rare shared words ("pressure", "warranty") outweigh one everywhere ("pump")
    assert text.splitlines() == [
        'According to manual.pdf, p. 3: "The pump runs at 5 bar of pressure!"',
        'According to warranty.docx: "It covers the pump motor and the filter housing."',
        'According to warranty.docx: "The warranty lasts two years."',
    ]


def test_common_words_count_little_and_wrapped_lines_stay_one_sentence() -> None:
    chunk = ContextChunk(
        "Returns are accepted within 30 days of delivery. Refunds go back to the original\n"
        "payment method within five business days.",
        "policy.md",
        0.9,
    )

    text = answer("How long do I have to return an item?", [chunk])

    assert text.splitlines()[0] == (
        'According to policy.md: "Returns are accepted within 30 days of delivery."'
    )
    assert "original payment method" in text


def test_sentence_repeated_by_overlapping_chunks_is_quoted_once() -> None:
    overlap = ContextChunk("Clean the filter every month.", "manual.pdf, p. 4", 0.7)

    text = answer("How often should I clean the filter?", [MANUAL, overlap])

    assert text.count("Clean the filter every month.") == 1


def test_splits_sentences_on_ideographic_full_stops() -> None:
    chunk = ContextChunk("X3 的保修期是两年。Y7 需要每月保养。", "手册.pdf", 0.9)

    assert answer("Y7 保养?", [chunk]) == 'According to 手册.pdf: "Y7 需要每月保养。"'


def test_without_any_shared_word_quotes_the_best_chunks_first_sentence() -> None:
    assert answer("Zzz?", [WARRANTY, MANUAL]) == (
        'According to manual.pdf, p. 3: "Welcome to the X3 pump."'
    )


def test_empty_context_answers_politely_that_nothing_was_found() -> None:
    assert answer("What pressure does the pump run at?", []) == NOT_FOUND


def test_no_llm_runs_so_no_tokens_are_billed() -> None:
    request = ask("What pressure does the pump run at?", [MANUAL])
    provider = ExtractiveProvider(count_characters)

    completion = provider.complete(request)

    assert completion.text
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (0, 0)
    assert (completion.model, completion.provider) == ("extractive", "extractive")
    assert provider.billed is False


def test_stream_yields_word_groups_that_join_to_the_text_then_the_completion() -> None:
    request = ask(
        "How long does the warranty for the pump and the filter last?", [MANUAL, WARRANTY]
    )

    *deltas, completion = ExtractiveProvider(count_characters).stream(request)

    assert isinstance(completion, Completion)
    assert len(deltas) > 1
    assert all(isinstance(delta, str) for delta in deltas)
    assert "".join(deltas) == completion.text  # type: ignore[arg-type]
