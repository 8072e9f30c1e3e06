#!/usr/bin/env python
"""Ingestion throughput: the whole pipeline against the embedding model alone, in one run.

    .venv/bin/python scripts/bench_ingest.py [--pages 240]

Generates a corpus of PDF pages, uploads it through the API (parse, split, embed, Chroma and
database writes in the background worker) and times upload-to-ready; then encodes the very same
chunks with the embedder alone. Target: the pipeline reaches >= 90% of the encoder's throughput.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient  # noqa: E402
from tqdm import tqdm  # noqa: E402

from app.core.vectors import embedder_for  # noqa: E402
from app.main import create_app  # noqa: E402
from ingestion import load, split  # noqa: E402
from scripts.bench_common import machine, paragraph, register_chatbot, temporary_settings  # noqa: E402
from tests.samples import make_pdf  # noqa: E402

PAGES_PER_PDF = 20
BATCH = 64


def corpus(pages: int) -> list[bytes]:
    rng = random.Random(42)
    texts = [paragraph(rng, sentences=10) for _ in range(pages)]
    return [make_pdf(texts[i : i + PAGES_PER_PDF]) for i in range(0, len(texts), PAGES_PER_PDF)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=240)
    args = parser.parse_args()
    pdfs = corpus(args.pages)

    with temporary_settings() as settings:
        embedder = embedder_for(settings)
        embedder.embed_passages(["warm up the model"])
        app = create_app(settings)
        with TestClient(app) as client:
            auth, bot = register_chatbot(client)

            start = time.perf_counter()
            files = [("files", (f"corpus-{i}.pdf", pdf)) for i, pdf in enumerate(pdfs)]
            docs = client.post(f"/api/upload/{bot['id']}", files=files, headers=auth).json()
            # poll gently: the benchmark must not steal the CPU it measures
            with tqdm(total=len(docs), desc="pipeline", unit="doc") as bar:
                while bar.n < len(docs):
                    time.sleep(0.25)
                    listed = client.get(f"/api/chatbots/{bot['id']}/documents", headers=auth)
                    states = [d["status"] for d in listed.json()]
                    assert "failed" not in states, listed.text
                    bar.update(states.count("ready") - bar.n)
            pipeline_seconds = time.perf_counter() - start
            listed = client.get(f"/api/chatbots/{bot['id']}/documents", headers=auth).json()
            chunks_total = sum(d["chunk_count"] for d in listed)

        texts = [
            chunk.text
            for pdf in pdfs
            for chunk in split(
                load(pdf, "pdf"),
                chunk_size=settings.chunk_size,
                chunk_overlap=settings.chunk_overlap,
                count_tokens=embedder.count_tokens,
                max_tokens=embedder.max_tokens,
            )
        ]
        assert len(texts) == chunks_total, (len(texts), chunks_total)
        start = time.perf_counter()
        for i in tqdm(range(0, len(texts), BATCH), desc="encode alone", unit="batch"):
            embedder.embed_passages(texts[i : i + BATCH])
        encode_seconds = time.perf_counter() - start

    pipeline_rate = chunks_total / pipeline_seconds
    encode_rate = chunks_total / encode_seconds
    print(f"\nmachine: {machine()}; embedder: {embedder.name} ({settings.embedding_backend})")
    print(f"corpus: {args.pages} PDF pages in {len(pdfs)} files, {chunks_total} chunks")
    print(f"{'':24}{'seconds':>10}{'chunks/s':>12}")
    print(f"{'whole pipeline':24}{pipeline_seconds:10.1f}{pipeline_rate:12.2f}")
    print(f"{'encoder alone':24}{encode_seconds:10.1f}{encode_rate:12.2f}")
    print(f"pipeline / encoder: {pipeline_rate / encode_rate:.1%} (target >= 90%)")


if __name__ == "__main__":
    main()
