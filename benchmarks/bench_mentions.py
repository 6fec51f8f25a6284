"""Name finding (kg/ingest/mentions.py NameMatcher) at scale: lineage/mention extraction over 1k, 5k
and 20k synthetic documents, and a whole `kg build` (fake encoder) at 5k documents.

Run: python benchmarks/bench_mentions.py [--sizes 1000,5000,20000] [--repeat 3] [--build 5000]
Writes benchmarks/results/mentions.json.

Synthetic data (stated): paper i has a title of 6-12 words from a small shared vocabulary (so titles
share their first words, as real ones do), an alias `Net{i}` and `XNet-{i}`, a 22-word summary from
the same vocabulary, and a note that names three older papers by alias, one after a trigger phrase
("builds on Net17"), so extraction finds lineage and mentions. The fake encoder
(testkit.encoders.FakeEncoder) stands in for the model.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results, time_runs  # noqa: E402
from kg.graph.extract import extract_relations  # noqa: E402
from kg.model import Note, Paper  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
WORDS = ("diffusion latent sampling guidance distillation video editing transformer consistency flow "
         "matching adapter control depth segmentation caption upscaling inpainting noise").split()


def synthetic_papers(n: int, seed: int = 11) -> list[Paper]:
    """n papers with titles, aliases, summaries and notes that name older papers (see module doc)."""
    rng = np.random.default_rng(seed)
    papers = []
    for i in range(n):
        title = " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), int(rng.integers(6, 13)))).capitalize()
        summary = " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), 22)).capitalize() + "."
        named = [int(k) for k in rng.integers(0, i, 3)] if i else []
        note = (f"This model builds on Net{named[0]} for {WORDS[i % len(WORDS)]}. "
                f"It is compared with XNet-{named[1]} and Net{named[2]}s in the appendix." if named else "")
        papers.append(Paper(id=f"p{i:07d}", title=title, aliases=[f"Net{i}", f"XNet-{i}"], summary=summary,
                            notes=[Note(note, "synthetic.md", i + 1)] if note else []))
    return papers


def measure_extraction(sizes: list[int], repeat: int) -> dict[str, Any]:
    """extract_relations (matcher built inside, as `kg build` does) at each size."""
    out: dict[str, Any] = {}
    for n in sizes:
        papers = synthetic_papers(n)
        found = extract_relations(papers)
        timing = time_runs(lambda papers=papers: extract_relations(papers), repeat=repeat)  # type: ignore[misc]
        out[str(n)] = {**timing, "lineage": len(found.lineage), "mentions": len(found.mentions)}
        print(f"  extraction, {n:>6} documents: min {timing['min_s']:.2f} s,"
              f" median {timing['median_s']:.2f} s, max {timing['max_s']:.2f} s"
              f" ({len(found.lineage)} lineage, {len(found.mentions)} mentions)",
              flush=True)
    return out


def measure_build(n: int) -> dict[str, Any]:
    """A whole build (index with the fake encoder, then the graph) of n synthetic papers."""
    from kg.pipeline import BuildPlan
    from kg.store import Store
    from testkit.encoders import FakeEncoder

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.at(Path(tmp) / "data")
        store.save_papers(synthetic_papers(n))
        start = time.perf_counter()
        BuildPlan(store, make_encoder=lambda name: FakeEncoder(name=name or "fake")).run()
        seconds = time.perf_counter() - start
    print(f"  kg build (fake encoder), {n} documents: {seconds:.2f} s", flush=True)
    return {"documents": n, "build_s": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--build", type=int, default=5000, help="documents for the whole build (0: skip)")
    ns = parser.parse_args()
    results: dict[str, Any] = {"extraction": measure_extraction([int(s) for s in ns.sizes.split(",")],
                                                                ns.repeat)}
    if ns.build:
        results["build"] = measure_build(ns.build)
    save_results("mentions", results)


if __name__ == "__main__":
    main()
