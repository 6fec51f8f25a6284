"""Export of the default corpus in every format, and of a synthetic 2,000-paper corpus.

The synthetic corpus repeats the default corpus's papers under new ids (same titles and authors),
so every key clashes many times over: the worst case for key assignment.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.corpus import Corpus  # noqa: E402
from kg.export import FORMATS, build_export  # noqa: E402
from kg.model import Paper  # noqa: E402
from kg.store import Store, write_text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def time_runs(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Wall-clock seconds of `repeat` runs: min and median."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"min_s": round(min(times), 4), "median_s": round(statistics.median(times), 4)}


def build_synthetic(papers: list[Paper], n: int) -> list[Paper]:
    """`n` papers cloned from `papers` under new arXiv-shaped ids."""
    return [replace(papers[i % len(papers)], id=f"2901.{i:05d}", arxiv_id=f"2901.{i:05d}")
            for i in range(n)]


def bench_default(store: Store) -> dict[str, Any]:
    records = list(Corpus.load(store).records())
    build_export(records, "bibtex", store=store)  # keys assigned once, outside the timing
    return {fmt: time_runs(lambda f=fmt: build_export(records, f, store=store), repeat=3)
            for fmt in FORMATS} | {"records": len(records)}


def bench_synthetic(papers: list[Paper], n: int) -> dict[str, Any]:
    synthetic = build_synthetic(papers, n)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        store.save_papers(synthetic)
        first = time_runs(lambda: build_export(synthetic, "bibtex", store=store), repeat=1)
        again = time_runs(lambda: build_export(synthetic, "bibtex", store=store), repeat=3)
        ris = time_runs(lambda: build_export(synthetic, "ris", store=store), repeat=3)
        md = time_runs(lambda: build_export(synthetic[:500], "markdown", store=store), repeat=1)
    return {"papers": n, "bibtex_first_with_key_assignment": first, "bibtex_keys_known": again,
            "ris": ris, "markdown_apa_500": md}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:  # a copy, so the benchmark never writes data/
        store = Store(Path(tmp))
        source = Store.at()
        for path in (source.papers_path, source.systems_path, source.keys_path):
            if path.exists():
                write_text(store.corpus_dir / path.name, path.read_text(encoding="utf-8"))
        default = bench_default(store)
        synthetic = bench_synthetic(store.load_papers(), 2000)
    print(f"default corpus ({default['records']} records), median of 3:")
    print(f"  {'format':<10} {'ms':>8}")
    for fmt in FORMATS:
        print(f"  {fmt:<10} {default[fmt]['median_s'] * 1000:>8.0f}")
    print(f"synthetic corpus ({synthetic['papers']} papers, every key clashing):")
    for name in ("bibtex_first_with_key_assignment", "bibtex_keys_known", "ris", "markdown_apa_500"):
        print(f"  {name:<34} {synthetic[name]['median_s'] * 1000:>8.0f} ms")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "export.json"
    out.write_text(json.dumps({"default": default, "synthetic": synthetic}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
