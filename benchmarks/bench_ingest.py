"""Ingest speed: the default corpus, and synthetic lists of 4,000 and 50,000 entries (a fifth of them
title-only), written in the formats of real lists (bold blocks, numbered items, bullets, tables).

Targets (issue 10): 4,000 entries in <= 3 s and 50,000 in <= 30 s on two cores, with bounded memory.
Nothing is written to the data directory: the synthetic lists go to a temporary one.

Usage: python benchmarks/bench_ingest.py [--quick]   (--quick: the 4,000-entry list only)
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results, time_runs  # noqa: E402
from kg.ingest.run import ingest  # noqa: E402
from kg.store import Store  # noqa: E402

WORDS = ("diffusion video image latent scalable efficient robust neural transformer attention guided "
         "consistent temporal spatial generative adversarial contrastive masked sparse dense editing "
         "synthesis inversion control personalized zero-shot few-shot multimodal language vision flow "
         "matching distillation sampling denoising score autoregressive hierarchical cascaded").split()
HEAD = ("Nova", "Lumen", "Quill", "Vesta", "Orbit", "Prism", "Ember", "Atlas", "Cinder", "Delta")


def synthetic_title(rng: random.Random, i: int) -> str:
    words = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(5, 9)))
    return f"{rng.choice(HEAD)}{i}: {words}"


def synthetic_entry(rng: random.Random, i: int) -> str:
    """One entry in one of the real formats; every fifth entry has a title and no link."""
    title = synthetic_title(rng, i)
    aid = f"{15 + i // 90000 % 10:02d}{1 + i // 7500 % 12:02d}.{i % 90000 + 10000:05d}"
    if i % 5 == 4:
        return f"- {title.replace(':', '')}\n" if i % 2 else f"| {title} | 2024 | - |\n"
    kind = i % 4
    if kind == 0:
        return (f"\n**{title}** \\\n*A. Author, B. Author* \\\n"
                f"CVPR 2024. [[Paper](https://arxiv.org/abs/{aid})] [[Code](https://github.com/x/{i})] \\\n"
                "16 Jul 2024\n\n")
    if kind == 1:
        return f"1. **{title}**. *C. Author*. NeurIPS 2023. [[pdf](https://arxiv.org/pdf/{aid}.pdf)]\n"
    if kind == 2:
        return f"- [{title}](https://arxiv.org/abs/{aid}) (Jun., 2024)\n"
    return f"| [{title}](https://arxiv.org/abs/{aid}) | Jul., 2023 | [code](https://github.com/x/{i}) |\n"


def synthetic_list(n: int, seed: int = 7) -> str:
    """`n` entries in sections of 100; each section's table rows sit in one table."""
    rng = random.Random(seed)
    parts = []
    for start in range(0, n, 100):
        parts.append(f"\n## Section {start // 100}\n\n")
        entries = [synthetic_entry(rng, i) for i in range(start, min(n, start + 100))]
        rows = [e for e in entries if e.startswith("|")]
        parts += [e for e in entries if not e.startswith("|")]
        if rows:
            parts.append("\n| Title | Date | Code |\n|---|---|---|\n" + "".join(rows) + "\n")
    return "# A synthetic reading list\n" + "".join(parts)


def measure_synthetic(n: int, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / f"synthetic-{n}.md"
        path.write_text(synthetic_list(n), encoding="utf-8")
        store = Store(root / "data")
        cpu = time.process_time()
        result = ingest(store, [path], write=False)
        cpu = time.process_time() - cpu
        timing = time_runs(lambda: ingest(store, [path], write=False), repeat=repeat)
    counts = result.report.counts
    print(f"{n} entries ({counts['entries']} read, {counts['papers_listed']} papers listed, "
          f"{counts['papers_without_arxiv_id']} title-only): median {timing['median_s']:.2f} s "
          f"(min {timing['min_s']:.2f}, max {timing['max_s']:.2f}); CPU time of one run {cpu:.2f} s, "
          f"load average {os.getloadavg()[0]:.1f}")
    return {"entries": counts["entries"], "papers_listed": counts["papers_listed"], "cpu_s": round(cpu, 2),
            "load_average": round(os.getloadavg()[0], 1), **timing}


def main(quick: bool) -> None:
    store = Store.at()
    result = ingest(store, write=False)
    timing = time_runs(lambda: ingest(store, write=False), repeat=5)
    results: dict[str, object] = {"default": {"entries": result.report.counts["entries"],
                                              "papers": len(result.papers), **timing}}
    print(f"default corpus, {result.report.counts['entries']} entries: median "
          f"{timing['median_s'] * 1000:.0f} ms (min {timing['min_s'] * 1000:.0f} ms)")
    started = time.perf_counter()
    results["synthetic_4000"] = measure_synthetic(4000, repeat=3)
    if not quick:
        results["synthetic_50000"] = measure_synthetic(50_000, repeat=1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["peak_rss_mb"] = round(peak_mb, 1)
    results["total_s"] = round(time.perf_counter() - started, 1)
    print(f"peak RSS {peak_mb:.0f} MB")
    save_results("ingest", results)


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
