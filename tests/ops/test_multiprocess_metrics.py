"""Several uvicorn workers: with PROMETHEUS_MULTIPROC_DIR, any worker's `/metrics` adds up what
every worker counted."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

MAX_REQUESTS = 200


def health_requests(page: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
        if sample.name == "http_request_duration_seconds_count"
        and sample.labels.get("route") == "/health"
    )


def worker_pids(metrics_dir: Path) -> set[str]:
    """Processes that observed a request latency (prometheus-client writes a file per process)."""
    return {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("histogram_*.db")}


def test_metrics_of_every_worker_are_added_up(serve, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    server = serve("--workers", "2", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    before = health_requests(httpx.get(server.url + "/metrics").text)

    sent = 0
    while len(worker_pids(metrics_dir)) < 2 and sent < MAX_REQUESTS:
        # a new connection each time: the kernel hands it to either worker
        assert httpx.get(server.url + "/health").status_code == 200
        sent += 1

    scrapes = [health_requests(httpx.get(server.url + "/metrics").text) for _ in range(4)]
    assert len(worker_pids(metrics_dir)) == 2, "both workers served requests"
    assert scrapes == [before + sent] * 4  # whichever worker answers
