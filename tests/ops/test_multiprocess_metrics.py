"""Several uvicorn workers: with PROMETHEUS_MULTIPROC_DIR, any worker's `/metrics` adds up what
every worker counted."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from tests.ops.conftest import LOG_TIMEOUT
from tests.servers import wait_for

MAX_REQUESTS = 200


def health_requests(page: str) -> float:
    return _health_requests(text_string_to_metric_families(page))


def _health_requests(families: Iterable[Metric]) -> float:
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "http_request_duration_seconds_count"
        and sample.labels.get("route") == "/health"
    )


def counted_by_worker(metrics_dir: Path) -> dict[str, float]:
    """The /health requests each worker has counted so far, read from its own file (one per
    process that observed a request latency)."""
    return {
        path.stem.rsplit("_", 1)[-1]: _health_requests(MultiProcessCollector.merge([str(path)]))
        for path in metrics_dir.glob("histogram_*.db")
    }


def test_metrics_of_every_worker_are_added_up(serve, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    server = serve("--workers", "2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    before = health_requests(httpx.get(server.url + "/metrics").text)

    def both_counted() -> bool:
        counts = counted_by_worker(metrics_dir)
        return len(counts) == 2 and all(counts.values())

    sent = 0
    while not both_counted() and sent < MAX_REQUESTS:
        # a new connection each time: the kernel hands it to either worker
        assert httpx.get(server.url + "/health").status_code == 200
        sent += 1
    assert both_counted(), f"both workers served /health: {counted_by_worker(metrics_dir)}"

    # A worker counts a request once its response has been sent, so the last one (or a start-up
    # probe that gave up waiting but was served all the same) can land after a scrape: wait until
    # four scrapes, whichever worker answers each, give the sum of what each worker counted.
    scrapes: list[float] = []
    counted: dict[str, float] = {}

    def added_up() -> bool:
        scrapes[:] = [health_requests(httpx.get(server.url + "/metrics").text) for _ in range(4)]
        counted.clear()
        counted.update(counted_by_worker(metrics_dir))
        total = sum(counted.values())
        return total >= before + sent and scrapes == [total] * 4

    try:
        wait_for(added_up, LOG_TIMEOUT, "the workers' counts to add up")
    except TimeoutError:
        raise AssertionError(
            f"scrapes {scrapes}; counted by each worker {counted}; sent {sent} after {before}"
        ) from None
