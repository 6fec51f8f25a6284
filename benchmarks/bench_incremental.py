"""Adding one paper to a 10,000-paper corpus: `kg build` (the in-process BuildPlan) updating the index
(kg.search.update) against a full rebuild of the same corpus (`--force`, vectors from the embedding
cache: what adding a paper cost before the update existed).

Run: python benchmarks/bench_incremental.py [--papers 10000] [--runs 5] [--cases update,full,same]
[--real-model]
Writes benchmarks/results/incremental.json (incremental-N.json for another size). Each run starts
from a copy of one built data directory, adds the same paper (`update`, `full`) or nothing (`same`:
a `kg build` with nothing changed), and builds; runs of the kinds alternate, so they meet the same
machine load. The comparison with the index is timed on its own, as the build calls it: `digests_s`
is kg.search.inputs.document_digests (every document's JSON, hashed: once per build), `fits_s`
kg.search.build.index_fits (the corpus hash, made of those digests, against the manifest's),
`compare_s` kg.search.update.plan_update (the digests against the indexed ones), `comparison_s` the
three together (before the digests were computed once, plan_update and index_fits each did it).
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
from kg import pipeline  # noqa: E402
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


class CallTimer:
    """Seconds spent in one function as kg.pipeline calls it (patched in kg.pipeline's namespace)."""

    def __init__(self, name: str) -> None:
        self.name, self.inner, self.seconds = name, getattr(pipeline, name), []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.inner(*args, **kwargs)
        finally:
            self.seconds.append(time.perf_counter() - start)

    def __enter__(self) -> CallTimer:
        setattr(pipeline, self.name, self)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(pipeline, self.name, self.inner)


def one_build(base: Path, work: Path, kind: str) -> dict[str, Any]:
    """Copy `base`, add NEW (unless `kind` is "same"), build (an update, a full rebuild with "full", or
    nothing to do with "same"): seconds per step, and of the comparison with the index."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    store = Store(work)
    if kind != "same":
        store.save_papers([*store.load_papers(), NEW])
    encoder = FakeEncoder(dimension=384)
    steps: list[tuple[str, float]] = []
    meter = CopyMeter()
    vectors.copy_range = meter  # type: ignore[assignment]
    try:
        with CallTimer("plan_update") as compare, CallTimer("index_fits") as fits, \
                CallTimer("document_digests") as digests:
            start = time.perf_counter()
            result = BuildPlan(store, encoder=encoder, force=kind == "full").run(
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
            "compare_s": sum(compare.seconds) if compare.seconds else None, "fits_s": sum(fits.seconds),
            "digests_s": sum(digests.seconds),
            "comparison_s": sum(digests.seconds) + sum(fits.seconds) + sum(compare.seconds),
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
    out = {"total_s": spread([r["total_s"] for r in runs]),
           "index_s": spread([r["index_seconds"] for r in runs]),
           "fits_s": spread([r["fits_s"] for r in runs]),
           "digests_s": spread([r["digests_s"] for r in runs]),
           "comparison_s": spread([r["comparison_s"] for r in runs]),
           "steps_s": steps, "texts_embedded": sorted({r["texts_embedded"] for r in runs}),
           "documents_embedded": sorted({r["documents_embedded"] for r in runs}),
           "update": runs[0]["update"], "copied_mb": round(runs[0]["copied_mb"], 1)}
    if all(r["compare_s"] is not None for r in runs):
        out["compare_s"] = spread([r["compare_s"] for r in runs])
    return out


EXPECT = {"update": (True, False), "full": (False, True), "same": (False, False)}  # (updated, rebuilt)
NAMES = {"update": "update", "full": "full_rebuild", "same": "nothing_changed"}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", default="update,full,same",
                        help="update (a paper added), full (the same, --force), same (nothing)")
    parser.add_argument("--real-model", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    cases = [c for c in args.cases.split(",") if c]
    assert cases and set(cases) <= set(EXPECT), f"--cases: some of {sorted(EXPECT)}"
    with tempfile.TemporaryDirectory(prefix="kg-bench-incr-") as tmp:
        base = base_data(Path(tmp) / "base", args.papers)
        runs: dict[str, list[dict[str, Any]]] = {c: [] for c in cases}
        for i in range(args.runs):  # alternating: the same load for every kind
            for case in cases:
                runs[case].append(one_build(base, Path(tmp) / f"{case}{i % 2}", case))
                assert (runs[case][-1]["updated"], runs[case][-1]["rebuilt"]) == EXPECT[case], case
        results: dict[str, Any] = {"papers": args.papers, "runs": args.runs, "load_average": os.getloadavg(),
                                   "index_mb": round(index_size_mb(base), 1)}
        results.update({NAMES[c]: summarise(runs[c]) for c in cases})
        if "update" in cases and "full" in cases:
            results["update_equals_full_rebuild"] = same_index(Path(runs["update"][-1]["store"]),
                                                               Path(runs["full"][-1]["store"]))
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
