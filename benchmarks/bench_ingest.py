"""Ingest of the default corpus: parse five lists, resolve, merge, extract mentions (no writes)."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results, time_runs  # noqa: E402
from kg.ingest.run import ingest  # noqa: E402
from kg.store import Store  # noqa: E402


def main() -> None:
    store = Store.at()
    result = ingest(store, write=False)
    timing = time_runs(lambda: ingest(store, write=False), repeat=5)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = {"entries": result.report.counts["entries"], "papers": len(result.papers), **timing,
               "peak_rss_mb": round(peak_mb, 1)}
    print(f"ingest of {results['entries']} entries -> {results['papers']} papers: "
          f"median {timing['median_s'] * 1000:.0f} ms (min {timing['min_s'] * 1000:.0f} ms), "
          f"peak RSS {peak_mb:.0f} MB")
    save_results("ingest", results)


if __name__ == "__main__":
    main()
