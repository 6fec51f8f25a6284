"""Graph build for the default corpus (goal: under 1 s), persistence, export and queries.

Prints a table and writes benchmarks/results/graph.json. "first build" is the first call in a fresh
process (name patterns compiled, caches cold); "build" is the median of warm repeats; "10x corpus"
builds the corpus plus nine renamed copies of every record, to show the headroom; "kg lineage
(process)" is a whole `kg lineage SDXL --up` in a new Python process, imports included.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results, time_runs  # noqa: E402
from kg.corpus import Corpus  # noqa: E402
from kg.graph.build import build_graph, load_graph, render_graphml, render_node_link, save_graph  # noqa: E402
from kg.graph.query import find_path, lineage_tree  # noqa: E402
from kg.lineage import load_lineage  # noqa: E402
from kg.store import DEFAULT_DATA_DIR, Store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def scaled_corpus(corpus: Corpus, copies: int) -> Corpus:
    """The corpus and `copies - 1` renamed copies of every record (ids, aliases suffixed), for a size test."""
    papers, systems = list(corpus.papers.values()), list(corpus.systems.values())
    for k in range(1, copies):
        for p in corpus.papers.values():
            papers.append(replace(p, id=f"{p.id}~{k}", aliases=[f"{a}~{k}" for a in p.aliases]))
        for s in corpus.systems.values():
            systems.append(replace(s, id=f"{s.id}~{k}", aliases=[f"{a}~{k}" for a in s.aliases]))
    return Corpus(papers, systems)


def time_process(data: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kg", "--data-dir", str(data), "lineage", "SDXL", "--up"],
                   cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


def measure_build(store: Store) -> tuple[Corpus, nx.MultiDiGraph, dict[str, Any]]:
    """Loading the inputs, the first build in this process, warm builds, and a 10x corpus."""
    load = time_runs(lambda: (Corpus.load(store), load_lineage(store)), repeat=5)
    corpus, rows = Corpus.load(store), load_lineage(store)
    start = time.perf_counter()
    graph = build_graph(corpus, rows)
    first = time.perf_counter() - start
    big = scaled_corpus(corpus, 10)
    timings = {"load_inputs": load, "first_build_s": first,
               "build": time_runs(lambda: build_graph(corpus, rows), repeat=5),
               "build_10x": {**time_runs(lambda: build_graph(big, rows), repeat=3), "records": len(big)},
               "curated_rows": len(rows)}
    return corpus, graph, timings


def measure_use(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Saving and loading the graph, rendering exports, queries, and a whole `kg lineage` process."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(DEFAULT_DATA_DIR, data, ignore=shutil.ignore_patterns("build", "cache"))
        tmp_store = Store.at(data)
        save = time_runs(lambda: save_graph(tmp_store, graph), repeat=3)
        reload = time_runs(lambda: load_graph(tmp_store), repeat=3)
        process_s = time_process(data)
    return {"save": save, "load_graph": reload,
            "render_graphml": time_runs(lambda: render_graphml(graph), repeat=3),
            "render_node_link": time_runs(lambda: render_node_link(graph), repeat=3),
            "lineage_tree_down": time_runs(lambda: lineage_tree(graph, "2112.10752", "down"), repeat=5),
            "path": time_runs(lambda: find_path(graph, "2006.11239", "system:sdxl-turbo"), repeat=5),
            "cli_process_s": process_s}


def main() -> None:
    corpus, graph, built = measure_build(Store.at())
    used = measure_use(graph)
    def median(key: str) -> float:
        return {**built, **used}[key]["median_s"]
    rows_out = [
        ("load corpus + lineage.csv (evidence checked)", median("load_inputs")),
        ("first build (fresh process)", built["first_build_s"]),
        ("build (median of 5)", median("build")),
        (f"build, 10x corpus ({built['build_10x']['records']} records)", median("build_10x")),
        ("save graph.json", median("save")), ("load graph.json", median("load_graph")),
        ("render GraphML", median("render_graphml")), ("render node-link JSON", median("render_node_link")),
        ("lineage tree LDM --down", median("lineage_tree_down")), ("path DDPM -> SDXL-Turbo", median("path")),
        ("kg lineage SDXL --up (process)", used["cli_process_s"]),
    ]
    print(f"graph of the default corpus: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges")
    for label, seconds in rows_out:
        print(f"  {label:<48} {seconds * 1000:9.1f} ms")
    met = built["first_build_s"] < 1.0 and median("build") < 1.0
    print(f"  goal: build under 1 s: {'met' if met else 'MISSED'}")
    save_results("graph", {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(),
                           "records": len(corpus), **built, **used, "goal_build_under_1s": met})


if __name__ == "__main__":
    main()
