from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingestion import VectorStore, make_client

ROOT = Path(__file__).resolve().parents[2]


def test_ingest_script_ingests_a_folder_and_reports_failures(tenant, settings, tmp_path):
    bot = tenant.create_chatbot(name="CLI")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "returns.txt").write_text("Returns are accepted within 30 days of delivery.")
    (folder / "faq.md").write_text("# Shipping\n\nShipping is free above 50 euros.\n")
    (folder / "empty.txt").write_bytes(b"")
    store_dir = tmp_path / "cli-vectors"  # the API process owns settings.vectorstore_dir
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "UPLOAD_DIR": str(settings.upload_dir),
        "VECTORSTORE_DIR": str(store_dir),
    }

    def ingest() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "scripts/ingest.py", "--chatbot", bot["id"], str(folder)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    run = ingest()
    assert run.returncode == 1, run.stderr
    assert "2 ingested, 0 already there, 1 rejected, 0 failed" in run.stdout
    assert "empty.txt" in run.stdout and "empty" in run.stdout.split("rejected:")[1]
    docs = tenant.get(f"/api/chatbots/{bot['id']}/documents").json()
    assert sorted((d["filename"], d["status"]) for d in docs) == [
        ("faq.md", "ready"),
        ("returns.txt", "ready"),
    ]
    store = VectorStore(make_client(path=store_dir))
    assert store.count(bot["id"]) == sum(d["chunk_count"] for d in docs)

    again = ingest()
    assert "0 ingested, 2 already there, 1 rejected" in again.stdout
