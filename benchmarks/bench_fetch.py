"""Benchmark `kg fetch` against the loopback arXiv and Semantic Scholar servers of the tests.

For the default corpus (data/corpus/papers.jsonl; the ids in data/facts/papers.jsonl when there is no
snapshot yet) and for a synthetic corpus of 1,000 ids and 20 titles, it measures requests, bytes and
wall time of a cold run (empty cache), a second run (nothing left to fetch), and a run from the cache
(the snapshot rebuilt, every answer cached). The servers answer at once and the delay between requests
is 0, so the time is our own overhead; against arXiv itself add 3 s per request after the first.
Nothing under data/ is written: each run works on a copy in a temporary folder.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import save_results  # noqa: E402
from kg.model import Paper  # noqa: E402
from kg.sources.arxiv import ArxivSettings  # noqa: E402
from kg.sources.fetch import fetch_corpus  # noqa: E402
from kg.sources.semantic_scholar import S2Settings  # noqa: E402
from kg.store import Store  # noqa: E402
from testkit.servers import (  # noqa: E402
    FakeArxiv,
    FakeSemanticScholar,
    synthetic_arxiv_table,
    table_for_papers,
)


def load_default_corpus() -> list[Paper]:
    """The snapshot's papers, or Paper records made from the facts' ids when there is no snapshot."""
    store = Store.at()
    papers = store.load_papers()
    if papers:
        return papers
    return [Paper(id=f["arxiv_id"], arxiv_id=f["arxiv_id"], title=f["title"])
            for f in store.load_facts("papers.jsonl") if f.get("arxiv_id")]


def s2_table(papers: list[Paper], seed: int = 0) -> dict[str, dict[str, Any]]:
    """Made-up citation answers: each paper cites up to 10 corpus papers and 20 outside ones."""
    rng = random.Random(seed)
    keys = [f"ARXIV:{p.arxiv_id}" if p.arxiv_id else f"DOI:{p.doi}" for p in papers if p.arxiv_id or p.doi]
    table = {}
    for key in keys:
        refs = rng.sample(keys, min(10, len(keys)))
        refs += [f"S2:outside-{rng.randrange(10**6)}" for _ in range(20)]
        table[key.removeprefix("ARXIV:")] = {"citationCount": rng.randrange(10**4), "references": refs,
                                             "influentialCitationCount": rng.randrange(10**3)}
    return table


def measure(store: Store, arxiv: FakeArxiv, s2: FakeSemanticScholar) -> dict[str, Any]:
    seen = (arxiv.count, s2.count)
    start = time.perf_counter()
    report = fetch_corpus(store, citations=True,
                          arxiv_settings=ArxivSettings(query_url_format=arxiv.url_format, delay_seconds=0),
                          s2_settings=S2Settings(base_url=s2.base_url, delay_seconds=0))
    wall = time.perf_counter() - start
    return {"arxiv_requests": arxiv.count - seen[0], "s2_requests": s2.count - seen[1],
            "cache_hits": report.cache_hits, "bytes": sum(s.bytes for s in report.stats.values()),
            "wall_s": round(wall, 3), "new": len(report.new), "resolved_titles": len(report.resolved),
            "cites_edges": report.citations.cites_edges if report.citations else 0}


def bench_corpus(name: str, papers: list[Paper], table: list[dict[str, Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, FakeArxiv(table) as arxiv, FakeSemanticScholar(
            s2_table(papers)) as s2:
        store = Store.at(Path(tmp) / "data")
        store.save_papers(papers)
        runs = {"cold": measure(store, arxiv, s2), "second": measure(store, arxiv, s2)}
        store.save_papers(papers)  # the snapshot as before the first run: every answer from the cache
        runs["from_cache"] = measure(store, arxiv, s2)
    ids = sum(1 for p in papers if p.arxiv_id)
    titles = sum(1 for p in papers if p.id.startswith("title:"))
    return {"corpus": name, "papers": len(papers), "arxiv_ids": ids, "titles": titles, **runs}


def synthetic_corpus() -> tuple[list[Paper], list[dict[str, Any]]]:
    table = synthetic_arxiv_table(1020)
    papers = [Paper(id=p["id"], arxiv_id=p["id"], title=p["title"]) for p in table[:1000]]
    papers += [Paper(id=f"title:s{i}", title=p["title"]) for i, p in enumerate(table[1000:])]
    return papers, table


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'corpus':<22}{'run':<12}{'arXiv req':>10}{'S2 req':>8}{'hits':>6}{'KiB':>9}{'wall s':>8}")
    for row in rows:
        for run in ("cold", "second", "from_cache"):
            r = row[run]
            print(f"{row['corpus']:<22}{run:<12}{r['arxiv_requests']:>10}{r['s2_requests']:>8}"
                  f"{r['cache_hits']:>6}{r['bytes'] / 1024:>9.1f}{r['wall_s']:>8.2f}")
    for row in rows:
        n = row["cold"]["arxiv_requests"]
        print(f"{row['corpus']}: {row['arxiv_ids']} ids + {row['titles']} titles -> {n} arXiv requests; "
              f"against arXiv at 3 s spacing at least {max(0, n - 1) * 3} s")


def main() -> dict[str, Any]:
    default = load_default_corpus()
    synthetic, table = synthetic_corpus()
    rows = [bench_corpus("default", default, table_for_papers(default)),
            bench_corpus("synthetic-1000+20", synthetic, table)]
    print_table(rows)
    results = {"runs": rows}
    path = save_results("fetch", results)
    print(f"written to {path.relative_to(ROOT)}")
    return results


if __name__ == "__main__":
    main()
