"""What `scripts/start` prints on the embedded defaults: its two processes, the migrations and
then the server, run as it runs them (`scripts/bootstrap` and the dashboard build left out)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
WARNING = "SECRET_KEY is not set"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_development_key_warning_is_printed_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "VECTORSTORE_DIR": str(tmp_path / "vectors"),
    }
    migrate = subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(BIN / "uvicorn"), "app.main:create_app", "--factory", "--port", str(_free_port())],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 300
            while "Application startup complete" not in log_path.read_text():
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(30)
    printed = migrate.stdout + migrate.stderr + log_path.read_text()
    assert printed.count(WARNING) == 1, printed
