"""Adding one paper to a 10,000-paper corpus: `kg build` (the in-process BuildPlan) updating the index
(kg.search.update) against a full rebuild of the same corpus (`--force`, vectors from the embedding
cache: what adding a paper cost before the update existed).

Run: python benchmarks/bench_incremental.py [--papers 10000] [--runs 5] [--real-model]
Writes benchmarks/results/incremental.json (incremental-N.json for another size). Each run starts
from a copy of one built data directory, adds the same paper, and builds; runs of the two kinds
alternate, so they meet the same machine load.
The fake encoder (384 dimensions, the real model's file sizes) stands in for the model; `--real-model`
adds what the real model costs for that one paper (loading it, then encoding its sentences), and on
the default corpus with the real model an update against a full rebuild (vectors and answers equal?).
Synthetic corpus: benchmarks/search_synth.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results  # noqa: E402
from benchmarks.search_synth import make_papers  # noqa: E402
from kg.model import Note, Paper  # noqa: E402
from kg.pipeline import BuildPlan  # noqa: E402
from kg.search import vectors  # noqa: E402
from kg.search.index import index_dir, read_manifest  # noqa: E402
from kg.store import DEFAULT_DATA_DIR, Store  # noqa: E402
from testkit.encoders import FakeEncoder  # noqa: E402

NEW = Paper(id="2501.00001", title="One-step video generation by distillation", published="2025-01-01",
            notes=[Note("It distils a video diffusion model into one step. Its samples stay sharp.",
                        "synthetic.md", 1)])


class CopyMeter:
    """Counts the bytes the update copies between index files in the kernel (kg.search.vectors.copy_range)."""

    def __init__(self) -> None:
        self.copied = 0
        self.inner = vectors.copy_range

    def __call__(self, src: int, dst: int, src_at: int, dst_at: int, count: int) -> None:
        self.copied += count
        self.inner(src, dst, src_at, dst_at, count)


def spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def base_data(root: Path, n: int) -> Path:
    """A data directory with n synthetic papers, built once (index, graph, embedding cache)."""
    store = Store(root)
    store.save_papers(make_papers(n))
    BuildPlan(store, encoder=FakeEncoder(dimension=384)).run()
    return root


def one_build(base: Path, work: Path, force: bool) -> dict[str, Any]:
    """Copy `base`, add NEW, build (an update, or a full rebuild with `force`): seconds per step."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    store = Store(work)
    store.save_papers([*store.load_papers(), NEW])
    encoder = FakeEncoder(dimension=384)
    steps: list[tuple[str, float]] = []
    meter = CopyMeter()
    vectors.copy_range = meter  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        result = BuildPlan(store, encoder=encoder, force=force).run(
            on_step=lambda i, n, label: steps.append((label, time.perf_counter())))
        total = time.perf_counter() - start
    finally:
        vectors.copy_range = meter.inner  # type: ignore[assignment]
    marks = [t for _, t in steps] + [start + total]
    per_step = {label: marks[i + 1] - t for i, (label, t) in enumerate(steps)}
    manifest = result.manifest
    return {"total_s": total, "steps": per_step, "updated": result.index_updated,
            "rebuilt": result.index_rebuilt, "texts_embedded": len(encoder.encoded),
            "documents_embedded": documents_embedded(store, encoder.encoded),
            "update": manifest.update, "index_seconds": manifest.build_seconds,
            "copied_mb": meter.copied / 2**20, "store": str(work)}


def documents_embedded(store: Store, texts: list[str]) -> int:
    """Documents of which at least one sentence reached the encoder."""
    from kg.corpus import Corpus
    from kg.search.documents import build_documents

    sent = set(texts)
    return sum(any(s.text in sent for s in d.sentences) for d in build_documents(Corpus.load(store)))


def index_arrays(root: Path) -> dict[str, np.ndarray]:
    store = Store(root)
    folder = index_dir(store) / read_manifest(store).build_id  # type: ignore[union-attr]
    return {p.name: np.load(p) for p in folder.glob("*.npy")}


def same_index(a: Path, b: Path) -> bool:
    left, right = index_arrays(a), index_arrays(b)
    return left.keys() == right.keys() and all(np.array_equal(left[k], right[k]) for k in left)


def index_size_mb(root: Path) -> float:
    store = Store(root)
    folder = index_dir(store) / read_manifest(store).build_id  # type: ignore[union-attr]
    return sum(p.stat().st_size for p in folder.iterdir()) / 2**20


def real_model_cost(runs: int) -> dict[str, Any]:
    """The real model for the one paper: loading it (torch and weights), then encoding its 3 sentences."""
    from kg.search.documents import build_document
    from kg.search.encoders import SentenceTransformerEncoder

    texts = [s.text for s in build_document(NEW).sentences]
    start = time.perf_counter()
    encoder = SentenceTransformerEncoder()
    encoder.dimension  # noqa: B018 - loads the model
    load = time.perf_counter() - start
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        encoder.encode(texts)
        times.append(time.perf_counter() - t)
    return {"sentences": len(texts), "model_load_s": round(load, 2), "encode_s": spread(times)}


def real_model_update(tmp: Path) -> dict[str, Any]:
    """The default corpus with the real model: a paper added (an update), then `--force` (a full
    rebuild): what the update embedded and whether both indexes and their answers are the same."""
    from kg.search.engine import load_searcher

    root = Path(tmp) / "real"
    shutil.copytree(DEFAULT_DATA_DIR, root, ignore=shutil.ignore_patterns("build", "cache"))
    store = Store(root)
    BuildPlan(store).run()
    store.save_papers([*store.load_papers(), NEW])
    start = time.perf_counter()
    updated = BuildPlan(store).run()
    seconds = time.perf_counter() - start
    queries = ["which papers accelerate sampling?", "one-step video generation", "SDXL", "image editing"]

    def answers() -> list[Any]:
        searcher = load_searcher(Store(root))
        return [[(h.id, h.score) for h in searcher.search(q, k=10)] for q in queries]

    before, vectors = answers(), index_arrays(root)
    BuildPlan(store, force=True).run()
    after, rebuilt = answers(), index_arrays(root)
    return {"documents": updated.manifest.n_documents, "update": updated.manifest.update,
            "sentences_embedded": updated.manifest.embedded, "update_build_s": round(seconds, 2),
            "vectors_equal_full_rebuild": all(np.array_equal(vectors[k], rebuilt[k]) for k in vectors),
            "answers_equal_full_rebuild": before == after}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    steps = {label: spread([r["steps"][label] for r in runs]) for label in runs[0]["steps"]}
    return {"total_s": spread([r["total_s"] for r in runs]),
            "index_s": spread([r["index_seconds"] for r in runs]),
            "steps_s": steps, "texts_embedded": sorted({r["texts_embedded"] for r in runs}),
            "documents_embedded": sorted({r["documents_embedded"] for r in runs}),
            "update": runs[0]["update"], "copied_mb": round(runs[0]["copied_mb"], 1)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--real-model", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory(prefix="kg-bench-incr-") as tmp:
        base = base_data(Path(tmp) / "base", args.papers)
        update: list[dict[str, Any]] = []
        full: list[dict[str, Any]] = []
        for i in range(args.runs):  # alternating: the same load for both kinds
            update.append(one_build(base, Path(tmp) / f"update{i % 2}", force=False))
            full.append(one_build(base, Path(tmp) / f"full{i % 2}", force=True))
            assert update[-1]["updated"] and full[-1]["rebuilt"]
        identical = same_index(Path(update[-1]["store"]), Path(full[-1]["store"]))
        results = {"papers": args.papers, "runs": args.runs, "load_average": os.getloadavg(),
                   "index_mb": round(index_size_mb(base), 1), "update": summarise(update),
                   "full_rebuild": summarise(full), "update_equals_full_rebuild": identical}
    if args.real_model:
        results["real_model_one_paper"] = real_model_cost(args.runs)
        with tempfile.TemporaryDirectory(prefix="kg-bench-incr-") as tmp:
            results["real_model_default_corpus"] = real_model_update(Path(tmp))
    path = save_results("incremental" if args.papers == 10_000 else f"incremental-{args.papers}", results)
    print(json_text(results))
    print(f"-> {path}")
    return results


def json_text(results: dict[str, Any]) -> str:
    import json

    return json.dumps(results, indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
