"""Search benchmark: `kg search` from the shell, ONNX against sentence-transformers vectors, and the
query process (latency, peak memory, disk) at 1k / 10k / 100k synthetic documents.

Run: python benchmarks/bench_search.py [--sizes 1000,10000,100000] [--runs 7] [--repeat 3]
Writes benchmarks/results/search.json. Every size builds in one child process and is queried in
another, so each peak memory is that process's own. The 1M scale benchmark is bench_search_scale.py.
Synthetic corpora: see benchmarks/search_synth.py.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results  # noqa: E402
from benchmarks.search_synth import REPO, SIZES, PoolEncoder, bench_queries, load_pool, make_papers  # noqa: E402
from kg.corpus import Corpus  # noqa: E402
from kg.search.documents import build_documents  # noqa: E402
from kg.search.encoders import DEFAULT_MODEL, SentenceTransformerEncoder  # noqa: E402
from kg.search.query_encoder import OnnxEncoder, export_dir  # noqa: E402
from kg.store import DEFAULT_DATA_DIR, Store  # noqa: E402

QUERY = "which papers accelerate sampling?"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


# ---- the shell ---------------------------------------------------------------------------------
def run_timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=ENV, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{command} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def bench_shell(data: Path, runs: int) -> dict[str, Any]:
    """`kg search` hybrid and --mode bm25 from the shell, interleaved run by run (the same load)."""
    base = [sys.executable, "-m", "kg", "--data-dir", str(data), "search", QUERY]
    commands = {"hybrid": base, "bm25": [*base, "--mode", "bm25"], "similar": [
        sys.executable, "-m", "kg", "--data-dir", str(data), "similar", "DDIM"]}
    walls: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            wall, peak = run_timed(command)
            walls[name].append(wall)
            peaks[name].append(peak)
    return {name: {"wall_s": spread(walls[name]), "peak_mb": spread(peaks[name]), "runs": runs}
            for name in commands}


def bench_vectors(data: Path) -> dict[str, Any]:
    """ONNX export against sentence-transformers on the labelled queries and every corpus sentence."""
    texts = bench_queries() + [s.text for d in build_documents(Corpus.load(Store(data))) for s in d.sentences]
    onnx = OnnxEncoder.open(export_dir(Store(data), DEFAULT_MODEL), DEFAULT_MODEL)
    st_enc = SentenceTransformerEncoder()
    a, b = onnx.encode(texts), st_enc.encode(texts)
    cos = np.sum(a * b, axis=1)
    times = {"onnx": [], "sentence-transformers": []}
    for q in bench_queries() * 3:
        for name, enc in (("onnx", onnx), ("sentence-transformers", st_enc)):
            start = time.perf_counter()
            enc.encode([q])
            times[name].append((time.perf_counter() - start) * 1000)
    return {"texts": len(texts), "min_cosine": round(float(cos.min()), 7),
            "mean_cosine": round(float(cos.mean()), 7), "max_abs_diff": float(np.abs(a - b).max()),
            "query_ms_p50": {k: round(float(np.percentile(v, 50)), 2) for k, v in times.items()}}


def default_data(tmp: Path) -> Path:
    """A copy of the default corpus and labelled set, built by `kg build` (index and ONNX export)."""
    data = tmp / "data"
    shutil.copytree(DEFAULT_DATA_DIR / "corpus", data / "corpus")
    shutil.copytree(DEFAULT_DATA_DIR / "eval", data / "eval")
    subprocess.run([sys.executable, "-m", "kg", "--data-dir", str(data), "build"], env=ENV, cwd=REPO,
                   check=True, capture_output=True)
    return data


# ---- sizes --------------------------------------------------------------------------------------
def rss_mb() -> float:
    """This process's peak resident memory (VmHWM: not inherited across fork and exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build_child(n: int, root: Path, export_from: Path) -> dict[str, Any]:
    """Build the index of n synthetic papers in `root` (the real build path, vectors looked up)."""
    from kg.search.index import build_index, index_dir
    from kg.search.inputs import snapshot_files, snapshot_inputs

    real = SentenceTransformerEncoder()
    encoder = PoolEncoder(real, load_pool(real))
    store = Store(root)
    store.save_papers(make_papers(n))
    shutil.copytree(export_from, export_dir(store, DEFAULT_MODEL))
    start = time.perf_counter()
    files = snapshot_files(store)  # as `kg build` does: a query process then reads documents from the index
    manifest = build_index(store, encoder, build_documents(Corpus.load(store)),
                           inputs=snapshot_inputs(store, encoder.name, files))
    files = [p for p in (index_dir(store) / manifest.build_id).iterdir()]
    disk = sum(p.stat().st_size for p in files) / 2**20
    return {"build_s": round(time.perf_counter() - start, 2), "index_type": manifest.index_type,
            "sentences": manifest.n_sentences, "disk_mb": round(disk, 1),
            "files_mb": {p.name: round(p.stat().st_size / 2**20, 1) for p in files},
            "build_peak_mb": round(rss_mb(), 1)}


def query_child(root: Path, repeat: int) -> dict[str, Any]:
    """What a query process costs: load everything, then hybrid searches with evidence."""
    from kg.search.engine import load_searcher

    start = time.perf_counter()
    searcher = load_searcher(Store(root))
    searcher.search(QUERY, k=10)
    load_s = time.perf_counter() - start
    queries = bench_queries()
    lat = latency(lambda q: searcher.search(q, k=10), queries, repeat)
    enc = latency(lambda q: searcher.encoder.encode([q]), queries, repeat)
    peak = rss_mb()
    return {"backend": getattr(searcher.encoder, "backend", "?"), "load_and_first_query_s": round(load_s, 2),
            "hybrid_ms": lat, "encoder_ms": enc, "query_peak_mb": round(peak, 1),
            "dense_stage_recall_at_10": stage_recall(searcher, queries)}


def incremental_child(n: int, root: Path) -> dict[str, Any]:
    """One paper added to an n-paper corpus built with the embedding cache: what the rebuild embeds, costs."""
    from kg.model import Note, Paper
    from kg.search.build import build_search_index

    real = SentenceTransformerEncoder()
    encoder = PoolEncoder(real, load_pool(real))
    store = Store(root)
    papers = make_papers(n)
    store.save_papers(papers)
    first, _ = build_search_index(store, encoder)
    new = Paper(id="2501.00001", title="A new paper on one-step video generation", published="2025-01-01",
                notes=[Note("It distils a video diffusion model into one step. Its samples stay sharp.",
                            "synthetic.md", n + 1)])
    store.save_papers([*papers, new])
    start = time.perf_counter()
    second, rebuilt = build_search_index(store, encoder)
    return {"documents": second.n_documents, "first_build_embedded": first.embedded,
            "rebuilt": rebuilt, "embedded_after_adding_one": second.embedded,
            "new_paper_sentences": 3, "rebuild_s": round(time.perf_counter() - start, 2)}


def latency(fn: Callable[[str], Any], queries: list[str], repeat: int) -> dict[str, float]:
    for q in queries:
        fn(q)
    times = []
    for _ in range(repeat):
        for q in queries:
            start = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - start) * 1000)
    return {p: round(float(np.percentile(times, int(p[1:]))), 2) for p in ("p50", "p95")}


def stage_recall(searcher: Any, queries: list[str]) -> float:
    """The dense stage's top 10 (index candidates, exact rescoring) against brute force by document vector."""
    vectors = np.asarray(searcher.index.doc_vectors, dtype=np.float32)
    found = []
    for q in queries:
        qvec = searcher.encode_query(q)
        truth = set(np.argsort(-(vectors @ qvec))[:10].tolist())
        got = searcher._dense_candidates(qvec, None, 10)
        found.append(len(truth & set(got.tolist())) / 10)
    return round(float(np.mean(found)), 4)


def run_child(args: list[str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as fh:
        subprocess.run([sys.executable, __file__, *args, "--out", fh.name], check=True, cwd=REPO, env=ENV)
        return dict(json.loads(Path(fh.name).read_text()))


def bench_sizes(sizes: list[int], repeat: int, export_from: Path, tmp: Path) -> dict[str, Any]:
    out = {}
    for n in sizes:
        root = tmp / f"size-{n}"
        result = run_child(["--build-child", str(n), "--root", str(root), "--export", str(export_from)])
        result.update(run_child(["--query-child", str(root), "--repeat", str(repeat)]))
        out[str(n)] = result
        shutil.rmtree(root, ignore_errors=True)
        print(f"  {n:>7} documents: {json.dumps(result)}", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shell-only", help="Only the shell benchmark, on this built data folder.")
    parser.add_argument("--build-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--query-child", help=argparse.SUPPRESS)
    parser.add_argument("--incremental-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--export", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.build_child:
        result = build_child(args.build_child, Path(args.root), Path(args.export))
        Path(args.out).write_text(json.dumps(result))
        return
    if args.query_child:
        Path(args.out).write_text(json.dumps(query_child(Path(args.query_child), args.repeat)))
        return
    if args.incremental_child:
        Path(args.out).write_text(json.dumps(incremental_child(args.incremental_child, Path(args.root))))
        return
    if args.shell_only:
        print(json.dumps(bench_shell(Path(args.shell_only), args.runs)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = default_data(Path(tmp))
        results: dict[str, Any] = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0]}
        results["shell"] = bench_shell(data, args.runs)
        print(json.dumps(results["shell"]), flush=True)
        results["onnx_vs_sentence_transformers"] = bench_vectors(data)
        print(json.dumps(results["onnx_vs_sentence_transformers"]), flush=True)
        sizes = [int(s) for s in args.sizes.split(",") if s]
        results["sizes"] = bench_sizes(sizes, args.repeat, export_dir(Store(data), DEFAULT_MODEL), Path(tmp))
        results["incremental"] = run_child(["--incremental-child", "10000", "--root", str(Path(tmp) / "inc")])
        print(json.dumps(results["incremental"]), flush=True)
        results["load_average_after"] = os.getloadavg()[0]
    print(f"-> {save_results('search', results)}")


if __name__ == "__main__":
    main(sys.argv[1:])
