"""Search at scale (default 1M documents): the dense index built streaming with bounded memory, then
queried by a separate process from the ONNX encoder to the exact top 10.

Run: python benchmarks/bench_search_scale.py [--n 1000000] [--repeat 2]
Writes benchmarks/results/search_scale.json.

Synthetic vectors (stated, as the issue allows): document vectors are made chunk by chunk from the
real model's vectors of the benchmark pool (benchmarks/search_synth.py), written into a float16
memory-mapped file the way `kg build` writes them, and indexed by the product's own functions
(kg.search.vectors.build_ivfpq; queries through compressed_search + top_exact, as Searcher does).
Queries (the labelled ones and ten synthetic ones) are encoded by the ONNX export at query time.
Recall@10 is against brute force over the same float16 vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_search import ENV, default_data, rss_mb  # noqa: E402
from benchmarks.common import save_results  # noqa: E402
from benchmarks.search_synth import REPO, bench_queries, pool_for, synthetic_doc_vectors  # noqa: E402
from kg.search.encoders import DEFAULT_MODEL  # noqa: E402
from kg.search.query_encoder import OnnxEncoder, export_dir  # noqa: E402
from kg.search.vectors import REFINE, build_ivfpq, compressed_search, open_rows, top_exact  # noqa: E402
from kg.store import Store  # noqa: E402


def build_child(n: int, root: Path) -> dict[str, Any]:
    """Stream n document vectors to disk, then build and save IVF-PQ; the process's peak memory."""
    import faiss

    pool = pool_for()
    start = time.perf_counter()
    vectors = open_rows(root / "doc_vectors.npy", (n, 384), np.float16)
    row = 0
    for chunk in synthetic_doc_vectors(n, pool):
        vectors[row:row + len(chunk)] = chunk
        row += len(chunk)
    vectors.flush()
    written = time.perf_counter() - start
    del vectors
    mapped = np.load(root / "doc_vectors.npy", mmap_mode="r")
    index = build_ivfpq(mapped)
    faiss.write_index(index, str(root / "dense.faiss"))
    return {"n": n, "vectors_written_s": round(written, 1), "build_s": round(time.perf_counter() - start, 1),
            "build_peak_mb": round(rss_mb(), 1), "nlist": int(index.nlist),
            "disk_mb": {p.name: round(p.stat().st_size / 2**20, 1) for p in root.iterdir() if p.is_file()}}


SETTINGS = ((32, 200), (32, 500), (64, 1000), (128, 1000))  # (nprobe, refine) tried after the default


def query_child(root: Path, export: Path, repeat: int) -> dict[str, Any]:
    """Load the index and the ONNX encoder, time whole queries with the product's settings (peak memory
    taken then), then recall against brute force for those and other (nprobe, refine) settings."""
    import faiss

    from kg.search.vectors import IVF_NPROBE

    start = time.perf_counter()
    vectors = np.load(root / "doc_vectors.npy", mmap_mode="r").view(np.ndarray)
    index = faiss.read_index(str(root / "dense.faiss"))
    faiss.extract_index_ivf(index).nprobe = IVF_NPROBE
    encoder = OnnxEncoder.open(export, DEFAULT_MODEL)
    load_s = time.perf_counter() - start
    queries = bench_queries()

    def run(nprobe: int, refine: int) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        faiss.extract_index_ivf(index).nprobe = nprobe

        def search(q: str) -> np.ndarray:
            qvec = encoder.encode([q])[0]
            found = top_exact(vectors, compressed_search(index, qvec, refine, nprobe=nprobe), qvec, 10)
            return found[np.argsort(-(vectors[found].astype(np.float32) @ qvec))]

        for q in queries:
            search(q)
        times, got = [], {}
        for _ in range(repeat):
            for q in queries:
                t = time.perf_counter()
                got[q] = search(q)
                times.append((time.perf_counter() - t) * 1000)
        return {p: round(float(np.percentile(times, int(p[1:]))), 2) for p in ("p50", "p95")}, got

    default_ms, default_got = run(IVF_NPROBE, REFINE)
    peak = rss_mb()
    truth = brute_force(vectors, encoder.encode(queries))
    tried = {f"nprobe {IVF_NPROBE}, refine {REFINE} (default)": {
        "query_ms": default_ms, "recall_at_10": recall(truth, queries, default_got)}}
    for nprobe, refine in SETTINGS:
        ms, got = run(nprobe, refine)
        tried[f"nprobe {nprobe}, refine {refine}"] = {"query_ms": ms,
                                                      "recall_at_10": recall(truth, queries, got)}
    return {"load_s": round(load_s, 2), "query_peak_mb": round(peak, 1), "queries": len(queries),
            "settings": tried}


def brute_force(vectors: np.ndarray, qvecs: np.ndarray) -> np.ndarray:
    """Each query's exact top 10 over all vectors (chunked)."""
    best = np.full((len(qvecs), 10), -np.inf, dtype=np.float32)
    ids = np.zeros((len(qvecs), 10), dtype=np.int64)
    for start in range(0, len(vectors), 100_000):
        sims = qvecs @ vectors[start:start + 100_000].astype(np.float32).T
        both = np.concatenate([best, sims], axis=1)
        numbers = np.arange(start, start + sims.shape[1])[None, :].repeat(len(qvecs), 0)
        both_ids = np.concatenate([ids, numbers], axis=1)
        top = np.argsort(-both, axis=1)[:, :10]
        best, ids = np.take_along_axis(both, top, 1), np.take_along_axis(both_ids, top, 1)
    return ids


def recall(truth: np.ndarray, queries: list[str], got: dict[str, np.ndarray]) -> float:
    overlap = [len(set(truth[i].tolist()) & set(got[q].tolist())) / 10 for i, q in enumerate(queries)]
    return round(float(np.mean(overlap)), 4)


def run_child(args: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        subprocess.run([sys.executable, __file__, *args, "--out", fh.name], check=True, cwd=REPO, env=ENV)
        return dict(json.loads(Path(fh.name).read_text()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--build-child", help=argparse.SUPPRESS)
    parser.add_argument("--query-child", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.build_child:
        Path(args.out).write_text(json.dumps(build_child(args.n, Path(args.build_child))))
        return
    if args.query_child:
        result = query_child(Path(args.query_child), Path(args.export), args.repeat)
        Path(args.out).write_text(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = default_data(Path(tmp))  # for its ONNX export
        export = Path(tmp) / "export"
        shutil.copytree(export_dir(Store(data), DEFAULT_MODEL), export)
        root = Path(tmp) / "index"
        root.mkdir()
        results = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0]}
        results["build"] = run_child(["--build-child", str(root), "--n", str(args.n)])
        print(json.dumps(results["build"]), flush=True)
        results["query"] = run_child(["--query-child", str(root), "--export", str(export),
                                      "--repeat", str(args.repeat)])
        print(json.dumps(results["query"]), flush=True)
        results["load_average_after"] = os.getloadavg()[0]
    print(f"-> {save_results('search_scale', results)}")


if __name__ == "__main__":
    main(sys.argv[1:])
