"""Scale benchmarks (issue 15): graph queries in networkx vs DuckDB at 100k and 1M papers, embedding
throughput local vs Ray, and `kg build` time and memory, per build step, at 100k and 1M documents.

Run: python benchmarks/bench_scale.py [graph|embed|build|all] [--sizes 100000,1000000] [--runs 3]
Writes benchmarks/results/scale_<part>.json. Every measurement runs in a child process, so its peak
RSS (ru_maxrss) is its own; a child past --rss-cap-gb stops itself and reports how far it got.

Synthetic data (stated): papers p0000000…, each citing `degree` older papers chosen at random, and one
lineage edge for every 20th paper; the fake encoder (testkit.encoders.FakeEncoder) where the real
model would take hours; the real all-MiniLM-L6-v2 for the throughput figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
QUERIES = 12


# ---- helpers -----------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def guard(cap_gb: float, progress: dict[str, Any]) -> None:
    """Stop this process (after printing what it reached) when its RSS passes `cap_gb`."""
    def watch() -> None:
        while True:
            if rss_mb() > cap_gb * 1024:
                progress.update(aborted=f"RSS passed {cap_gb} GB", peak_rss_mb=peak_rss_mb())
                print(json.dumps(progress), flush=True)
                os._exit(3)
            time.sleep(0.2)
    threading.Thread(target=watch, daemon=True).start()


def stats(times: list[float]) -> dict[str, float]:
    return {"min_ms": round(min(times) * 1000, 2), "median_ms": round(statistics.median(times) * 1000, 2),
            "max_ms": round(max(times) * 1000, 2)}


def timed(fn: Any, args_list: list[tuple[Any, ...]]) -> dict[str, float]:
    times = []
    for args in args_list:
        start = time.perf_counter()
        try:
            fn(*args)
        except Exception:  # a query without an answer (no path) still costs its time
            pass
        times.append(time.perf_counter() - start)
    return stats(times)


def synthetic_edges(n: int, degree: int, seed: int = 15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, target, is_lineage) node numbers: each paper cites `degree` older ones; every 20th
    paper also derives from an older one."""
    rng = np.random.default_rng(seed)
    src = np.repeat(np.arange(1, n, dtype=np.int64), degree)
    dst = (rng.random(len(src)) * src).astype(np.int64)
    lsrc = np.arange(20, n, 20, dtype=np.int64)
    ldst = (rng.random(len(lsrc)) * lsrc).astype(np.int64)
    kinds = np.concatenate([np.zeros(len(src), bool), np.ones(len(lsrc), bool)])
    return np.concatenate([src, lsrc]), np.concatenate([dst, ldst]), kinds


def name(i: int) -> str:
    return f"p{i:07d}"


def child(args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, *args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                             env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    except subprocess.TimeoutExpired as exc:  # the child's last progress line says how far it got
        partial = [line for line in (exc.stdout or b"").decode().splitlines() if line.startswith("{")]
        return {**(json.loads(partial[-1]) if partial else {}),
                "aborted": f"took more than {timeout:.0f} s", "args": args}
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"aborted": f"exit {out.returncode}", "stderr": out.stderr[-800:], "args": args}
    return dict(json.loads(lines[-1]))


# ---- graph: networkx ---------------------------------------------------------------------------
def run_graph_nx(n: int, degree: int, cap_gb: float) -> dict[str, Any]:
    import networkx as nx

    from kg.graph.query import find_path, lineage_ids, neighbors

    progress: dict[str, Any] = {"backend": "networkx", "papers": n, "degree": degree}
    guard(cap_gb, progress)
    src, dst, lineage = synthetic_edges(n, degree)
    base = rss_mb()
    start = time.perf_counter()
    g = nx.MultiDiGraph()
    g.add_nodes_from((name(i), {"kind": "paper", "label": name(i), "title": f"Synthetic paper {i}",
                                "status": "listed", "aliases": [], "year": 2000 + i % 25}) for i in range(n))
    progress["nodes_added"] = n
    step = 1_000_000
    for k in range(0, len(src), step):
        chunk = zip(src[k:k + step], dst[k:k + step], lineage[k:k + step], strict=True)
        g.add_edges_from((name(int(s)), name(int(t)), "lineage" if lin else "cites",
                          {"kind": "lineage" if lin else "cites", "provenance": "synthetic",
                           **({"relation": "builds_on"} if lin else {})}) for s, t, lin in chunk)
        progress["edges_added"] = min(k + step, len(src))
    progress.update(edges=g.number_of_edges(), build_s=round(time.perf_counter() - start, 2),
                    graph_mb=round(rss_mb() - base, 1))
    rng = np.random.default_rng(1)
    picks = [name(int(i)) for i in rng.integers(n // 2, n, QUERIES)]
    progress["neighbors"] = timed(lambda a: neighbors(g, a), [(p,) for p in picks])
    progress["lineage"] = timed(lambda a: lineage_ids(g, a, direction="up"), [(p,) for p in picks[:3]])
    pairs = [(picks[i], name(int(rng.integers(0, n // 10)))) for i in range(3)]
    progress["path"] = timed(lambda a, b: find_path(g, a, b, via=("lineage", "cites")), pairs)
    progress["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return progress


# ---- graph: DuckDB -----------------------------------------------------------------------------
def write_edges_parquet(folder: Path, n: int, degree: int) -> None:
    import pyarrow as pa

    from kg.scale.parquet import EDGE_SCHEMA, write_part

    src, dst, lineage = synthetic_edges(n, degree)
    (folder / "edges").mkdir(parents=True, exist_ok=True)
    step = 2_000_000
    for part, k in enumerate(range(0, len(src), step)):
        s, t, lin = src[k:k + step], dst[k:k + step], lineage[k:k + step]
        ids = lambda a: pa.array(np.char.add("p", np.char.zfill(a.astype(str), 7)))  # noqa: E731
        kind = np.where(lin, "lineage", "cites")
        table = pa.table({"source": ids(s), "target": ids(t), "kind": pa.array(kind),
                          "provenance": pa.array(np.full(len(s), "synthetic")),
                          "relation": pa.array(np.where(lin, "builds_on", None)),
                          "evidence": pa.nulls(len(s), pa.string()),
                          "evidence_ref": pa.nulls(len(s), pa.string()),
                          "score": pa.nulls(len(s), pa.float64())}).cast(EDGE_SCHEMA)
        write_part(folder / "edges" / f"part-{part:05d}.parquet", table)


def run_graph_sql(n: int, degree: int, cap_gb: float) -> dict[str, Any]:
    from kg.scale.graph_sql import GraphDB, build_graph_db

    progress: dict[str, Any] = {"backend": "duckdb", "papers": n, "degree": degree}
    guard(cap_gb, progress)
    with tempfile.TemporaryDirectory(prefix="kg-bench-scale-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_edges_parquet(folder, n, degree)
        progress["parquet_s"] = round(time.perf_counter() - start, 2)
        progress["parquet_mb"] = round(sum(p.stat().st_size for p in (folder / "edges").iterdir()) / 2**20, 1)
        start = time.perf_counter()
        build_graph_db(folder, folder / "graph.duckdb")
        progress["load_s"] = round(time.perf_counter() - start, 2)
        progress["db_mb"] = round((folder / "graph.duckdb").stat().st_size / 2**20, 1)
        progress["load_peak_rss_mb"] = round(peak_rss_mb(), 1)
        rng = np.random.default_rng(1)
        picks = [name(int(i)) for i in rng.integers(n // 2, n, QUERIES)]
        with GraphDB(folder / "graph.duckdb") as db:
            before = rss_mb()
            progress["open_rss_mb"] = round(before, 1)
            progress["neighbors"] = timed(lambda a: db.neighbors(a), [(p,) for p in picks])
            lin = [name(int(i)) for i in rng.integers(n // 2, n, QUERIES) // 20 * 20]
            progress["lineage"] = timed(lambda a: db.lineage(a, up=True), [(p,) for p in lin])
            pairs = [(picks[i], name(int(rng.integers(0, n // 10)))) for i in range(QUERIES)]
            progress["path"] = timed(lambda a, b: db.find_path(a, b), pairs)
            progress["path_hops"] = [len(db.find_path(a, b)) for a, b in pairs[:3]]
            progress["query_rss_mb"] = round(rss_mb(), 1)
    progress["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return progress


# ---- embedding throughput ----------------------------------------------------------------------
def bench_texts(n: int) -> list[str]:
    words = ("diffusion latent sampling guidance distillation video editing transformer consistency flow "
             "matching adapter control depth segmentation caption upscaling inpainting noise").split()
    rng = np.random.default_rng(3)
    return [" ".join(words[j] for j in rng.integers(0, len(words), 22)).capitalize() + "." for _ in range(n)]


def run_embed(n: int, fake: bool) -> dict[str, Any]:
    import ray

    from kg.scale.ray_embed import EncoderSpec, RayEncoder, kg_runtime_env
    from kg.search.encoders import load_encoder
    from testkit.encoders import FakeEncoder

    texts = bench_texts(n)
    spec = EncoderSpec(factory="testkit.encoders:FakeEncoder", dimension=384) if fake else EncoderSpec()
    local = FakeEncoder(384) if fake else load_encoder()
    local.encode(texts[:64])  # load the model before timing
    start = time.perf_counter()
    a = local.encode(texts)
    local_s = time.perf_counter() - start
    start = time.perf_counter()
    ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, log_to_driver=False,
             runtime_env=kg_runtime_env(spec))
    init_s = time.perf_counter() - start
    try:
        start = time.perf_counter()
        b = RayEncoder(spec).encode(texts)
        ray_s = time.perf_counter() - start
    finally:
        ray.shutdown()
    return {"encoder": "fake" if fake else "all-MiniLM-L6-v2", "texts": n, "cpus": os.cpu_count(),
            "local_s": round(local_s, 2), "local_per_s": round(n / local_s, 1),
            "ray_init_s": round(init_s, 2), "ray_job_s": round(ray_s, 2), "ray_per_s": round(n / ray_s, 1),
            "max_abs_diff": float(np.abs(a - b).max())}


# ---- kg build at 100k and 1M ------------------------------------------------------------------
class StageMeter:
    """Wall seconds and peak RSS of each build step (BuildPlan's `on_step` marks where one begins; a
    thread samples RSS every 50 ms, so a stage's peak is its own, not the process's so far)."""

    def __init__(self, progress: dict[str, Any]) -> None:
        self.progress = progress  # printed at each stage's start: a run stopped by the timeout still tells
        self.stages: list[dict[str, Any]] = progress.setdefault("stages", [])
        self.started = time.perf_counter()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            if self.stages:
                stage = self.stages[-1]
                stage["peak_rss_mb"] = max(stage["peak_rss_mb"], round(rss_mb(), 1))
            time.sleep(0.05)

    def begin(self, label: str) -> None:
        now = time.perf_counter()
        if self.stages:
            self.stages[-1]["s"] = round(now - self.stages[-1].pop("t0"), 2)
        self.stages.append({"stage": label, "t0": now, "peak_rss_mb": round(rss_mb(), 1)})
        print(json.dumps(self.progress), flush=True)

    def end(self) -> list[dict[str, Any]]:
        self.begin("")
        self.stages.pop()
        return self.stages


def run_build(n: int, cap_gb: float, sql_above: int | None = None) -> dict[str, Any]:
    from kg.graph.build import GRAPH_SQL_THRESHOLD
    from kg.model import Paper
    from kg.pipeline import BuildPlan, BuildStep
    from kg.store import Store
    from testkit.encoders import FakeEncoder

    sql_above = GRAPH_SQL_THRESHOLD if sql_above is None else sql_above
    progress: dict[str, Any] = {"documents": n, "encoder": "fake (32 dimensions)",
                                "graph_sql_above": sql_above}
    guard(cap_gb, progress)
    texts = bench_texts(n * 2)
    with tempfile.TemporaryDirectory(prefix="kg-bench-scale-") as tmp:
        store = Store.at(Path(tmp) / "data")
        store.save_papers(Paper(id=name(i), title=texts[2 * i][:80], summary=texts[2 * i + 1])
                          for i in range(n))
        del texts
        progress["before_rss_mb"] = round(rss_mb(), 1)
        meter = StageMeter(progress)
        plan = BuildPlan(store, encoder=FakeEncoder(32), graph_sql_above=sql_above)
        plan.steps.append(BuildStep("Committing the generation (checksums)", lambda: None))
        result = plan.run(on_step=lambda i, total, label: meter.begin(label))
        meter.end()
        progress.update(build_s=round(time.perf_counter() - meter.started, 2),
                        graph_s=round(result.report.seconds, 2), index_type=result.manifest.index_type,
                        sentences=result.manifest.n_sentences, edges=result.report.edges,
                        graph_store="networkx" if result.graph is not None else "duckdb",
                        peak_rss_mb=round(peak_rss_mb(), 1))
        if result.graph is None:
            progress["queries"] = query_built_graph(store, n)
    return progress


def query_built_graph(store: Any, n: int) -> dict[str, Any]:
    """`kg neighbors` and `kg path` (similar_to edges) on the DuckDB graph the build left, opened as the
    CLI opens it."""
    from kg.graph.build import open_graph

    rng = np.random.default_rng(1)
    picks = [name(int(i)) for i in rng.integers(0, n, QUERIES)]
    start = time.perf_counter()
    db = open_graph(store)
    out: dict[str, Any] = {"open_ms": round((time.perf_counter() - start) * 1000, 1)}
    try:
        out["neighbors"] = timed(lambda a: db.neighbors(a), [(p,) for p in picks])
        pairs = [(picks[i], picks[i + 1]) for i in range(0, 6, 2)]
        out["path_similar_to"] = timed(lambda a, b: db.find_path(a, b, ("similar_to",)), pairs)
    finally:
        db.close()
    return out


# ---- driver ------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["graph", "embed", "build", "all"], nargs="?", default="all")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--degree", type=int, default=10)
    parser.add_argument("--rss-cap-gb", type=float, default=6.0)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--runs", type=int, default=1, help="build: runs of each size")
    parser.add_argument("--graph-sql-above", type=int, default=None,
                        help="build: records above which the graph goes to DuckDB (default "
                             "GRAPH_SQL_THRESHOLD; lower it to profile the DuckDB graph at 200k-300k)")
    parser.add_argument("--child", nargs="*")
    ns = parser.parse_args()
    if ns.child:
        kind, n = ns.child[0], int(ns.child[1])
        out = {"graph-nx": lambda: run_graph_nx(n, ns.degree, ns.rss_cap_gb),
               "graph-sql": lambda: run_graph_sql(n, ns.degree, ns.rss_cap_gb),
               "embed-real": lambda: run_embed(n, False), "embed-fake": lambda: run_embed(n, True),
               "build": lambda: run_build(n, ns.rss_cap_gb, ns.graph_sql_above)}[kind]()
        print(json.dumps(out), flush=True)
        return
    sizes = [int(s) for s in ns.sizes.split(",")]
    common = ["--degree", str(ns.degree), "--rss-cap-gb", str(ns.rss_cap_gb)]
    if ns.graph_sql_above is not None:
        common += ["--graph-sql-above", str(ns.graph_sql_above)]
    plan = {"graph": [("graph-sql", n) for n in sizes] + [("graph-nx", n) for n in sizes],
            "embed": [("embed-real", 2000), ("embed-fake", 50_000)],
            "build": [("build", n) for n in sizes for _ in range(ns.runs)]}
    for part in (["graph", "embed", "build"] if ns.part == "all" else [ns.part]):
        results = []
        for kind, n in plan[part]:
            res = child(["--child", kind, str(n), *common], ns.timeout)
            print(kind, n, json.dumps(res), flush=True)
            results.append(res)
        print("->", save_results(f"scale_{part}", {"machine_cpus": os.cpu_count(), "runs": results}))


if __name__ == "__main__":
    main()
