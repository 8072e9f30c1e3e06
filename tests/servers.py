"""Real servers started by tests as subprocesses: a Chroma server and Celery workers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not come up within {timeout}s")


@contextmanager
def chroma_server(path: Path) -> Iterator[int]:
    """`chroma run` on a free loopback port; yields the port."""
    with chroma_server_process(path) as (port, _pid):
        yield port


@contextmanager
def chroma_server_process(
    path: Path, cache_collections: int | None = None
) -> Iterator[tuple[int, int]]:
    """`chroma run` on a free loopback port, its HNSW index pool bounded to `cache_collections`
    indexes if given (the server's own config file); yields (port, process id)."""
    port = free_port()
    log = open(path.parent / f"chroma-{port}.log", "wb")  # noqa: SIM115
    if cache_collections is None:
        args = ["--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    else:
        config = path.parent / f"chroma-{port}.yaml"
        config.write_text(
            f"persist_path: {json.dumps(str(path))}\nport: {port}\nlisten_address: 127.0.0.1\n"
            "segment_manager:\n  hnsw_index_pool_cache_config:\n"
            f"    memory:\n      capacity: {cache_collections}\n"
        )
        args = [str(config)]
    proc = subprocess.Popen(
        [str(BIN / "chroma"), "run", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat").status_code == 200,
            60,
            "chroma server",
        )
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def start_celery_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    log = open(log_path, "ab")  # noqa: SIM115
    return subprocess.Popen(
        [
            str(BIN / "celery"),
            "-A",
            "app.worker",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            "ingestion",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
