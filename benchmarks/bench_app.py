"""The app in a real browser: cold start, warm query round trip, drawing a 500-node lineage family.

1. Restart to the first answered query: `streamlit run app.py` over a copy of the default corpus
   (built beforehand with the real model); from the process start until the Search page takes input,
   until a query typed then is answered (by words while the model loads in the background), and
   until results match by meaning too. First start: the same over an unbuilt copy (the app builds
   the index and the graph first). `--runs` of each (min / median / max).
2. Warm query round trip: type a query, press Enter, until Streamlit has finished the rerun (timed
   inside the page from the key press to the script-state change); median of several queries.
3. Lineage explorer with 500 nodes: a synthetic family (500 papers over ten years, ~750 lineage
   edges, seeded) written as a corpus and a persisted graph; time from opening the page until
   all 500 nodes are in the SVG, and the Python part alone (layout + DOT) measured in-process.

Needs Debian's /usr/bin/chromium and Playwright. Prints a table and writes benchmarks/results/app.json
(and a screenshot of the 500-node family, app-lineage-500.png, beside it).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

from benchmarks.common import RESULTS, save_results, time_runs  # noqa: E402
from kg.corpus import Corpus  # noqa: E402
from kg.graph.build import add_edge, build_graph, save_graph  # noqa: E402
from kg.model import Paper  # noqa: E402
from kg.search.build import build_search_index  # noqa: E402
from kg.search.encoders import load_encoder  # noqa: E402
from kg.store import Store  # noqa: E402
from kgapp.family import layout_family, render_family_dot  # noqa: E402
from kgapp.related import family_graph  # noqa: E402
from testkit.appdata import build_all, copy_default_data  # noqa: E402
from testkit.encoders import FakeEncoder  # noqa: E402
from testkit.live import launch_chromium, start_app, wait_for_run, wait_healthy  # noqa: E402

QUERIES = ["which papers accelerate sampling?", "distillation for few-step generation",
           "identity preservation in text-to-image", "autoregressive image generation with tokens",
           "latent space diffusion at high resolution", "model merging", "classifier-free guidance",
           "video generation with diffusion models", "consistency models", "inpainting with masks"]
FAMILY_SIZE = 500
RELATIONS = ["extends", "finetuned_from", "distilled_from", "builds_on", "variant_of"]

WATCH_RUNS = """() => {
  window.__runs = [];
  const app = document.querySelector('[data-testid=stApp]');
  new MutationObserver(ms => ms.forEach(m => window.__runs.push(
      [m.target.getAttribute('data-test-script-state'), performance.now()]))
  ).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
ROUND_TRIP_DONE = """(t0) => {
  const runs = window.__runs.filter(r => r[1] >= t0);
  const started = runs.findIndex(r => r[0] === 'running');
  return started >= 0 && runs.slice(started).some(r => r[0] === 'notRunning');
}"""
ROUND_TRIP_MS = """(t0) => {
  const runs = window.__runs.filter(r => r[1] >= t0);
  const started = runs.findIndex(r => r[0] === 'running');
  return runs.slice(started).find(r => r[0] === 'notRunning')[1] - t0;
}"""


def query_round_trip(page, query: str) -> float:
    """Milliseconds from pressing Enter on `query` to the end of Streamlit's rerun, in the page."""
    box = page.get_by_label("Ask the reading lists")
    box.fill(query)
    page.evaluate("() => { window.__runs = window.__runs || []; }")
    t0 = page.evaluate("() => performance.now()")
    box.press("Enter")
    page.wait_for_function(ROUND_TRIP_DONE, arg=t0, timeout=60_000)
    return float(page.evaluate(ROUND_TRIP_MS, t0))


def first_answer(app, playwright, query: str) -> dict[str, float]:
    """From the server's start: seconds until the Search page takes input, until `query` (typed then)
    is answered, and until the model is loaded (results by meaning; the spinner gone)."""
    browser = launch_chromium(playwright)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app.url + "/search")
        box = page.get_by_label("Ask the reading lists")
        box.wait_for(timeout=300_000)
        ready = time.perf_counter() - app.started
        box.fill(query)
        box.press("Enter")
        page.get_by_text(f"results for ‘{query}’").first.wait_for(timeout=300_000)
        answered = time.perf_counter() - app.started
        page.get_by_text("matched both").first.wait_for(timeout=300_000)
        meaning = time.perf_counter() - app.started
        return {"page_ready_s": ready, "first_answer_s": answered, "answer_by_meaning_s": meaning}
    finally:
        browser.close()


def measure_start(root: Path, playwright, runs: int, label: str) -> dict[str, float]:
    """`runs` starts of the server over `root` (built: a restart; unbuilt: a first start, rebuilt each
    time); min / median / max of each measure of `first_answer`."""
    rows = []
    for i in range(runs):
        if label == "first_start":
            shutil.rmtree(root, ignore_errors=True)
            copy_default_data(root)
        app = start_app(root, root.parent / f"{label}-{i}.log")
        try:
            wait_healthy(app, timeout=120)
            rows.append(first_answer(app, playwright, QUERIES[i % len(QUERIES)]))
        except PlaywrightTimeout as exc:  # counted and reported, not hidden
            print(f"{label} run {i}: timed out ({exc})", file=sys.stderr)
        finally:
            app.stop()
    out: dict[str, float] = {f"{label}_timeouts": runs - len(rows)}
    for key in rows[0] if rows else []:
        values = [r[key] for r in rows]
        out.update({f"{label}_{key}_min": round(min(values), 2), f"{label}_{key}_median":
                    round(statistics.median(values), 2), f"{label}_{key}_max": round(max(values), 2)})
    return out


def measure_search(root: Path, playwright) -> dict[str, float]:
    """Warm query round trips (median, max) on a running server whose model is loaded."""
    app = start_app(root, root.parent / "search-server.log")
    try:
        wait_healthy(app, timeout=120)
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app.url + "/search?q=warm+up")
        page.get_by_text("matched both").first.wait_for(timeout=300_000)
        page.evaluate(WATCH_RUNS)
        warm = [query_round_trip(page, q) for q in QUERIES[1:]]
        browser.close()
    finally:
        app.stop()
    return {"warm_query_round_trip_median_ms": round(statistics.median(warm), 1),
            "warm_query_round_trip_max_ms": round(max(warm), 1), "warm_queries": len(warm)}


# ---- the synthetic family ---------------------------------------------------------------------------
def synthetic_papers(n: int, seed: int = 7) -> list[Paper]:
    rng = random.Random(seed)
    days = sorted(rng.randrange(0, 3650) for _ in range(n))
    papers = []
    for i, day in enumerate(days):
        date = time.strftime("%Y-%m-%d", time.gmtime(1420070400 + day * 86400))  # from 2015-01-01
        papers.append(Paper(id=f"title:synthetic-{i:03d}", title=f"Synthetic method {i} for image generation",
                            aliases=[f"Syn-{i}"], published=date, published_precision="day", status="listed",
                            topics=["Synthetic"]))
    return papers


def write_family(root: Path, n: int = FAMILY_SIZE, seed: int = 7) -> str:
    """A corpus of `n` synthetic papers and a persisted graph in which they form one lineage family;
    returns the id of a paper in the middle of it."""
    store = Store.at(root)
    papers = synthetic_papers(n, seed)
    store.save_papers(papers)
    store.save_systems([])
    corpus = Corpus.load(store)
    build_search_index(store, FakeEncoder(), corpus=corpus, force=True)  # the explorer needs no real model
    graph = build_graph(corpus, extract=False)
    rng = random.Random(seed)
    for i, paper in enumerate(papers[1:], 1):
        for parent in {rng.randrange(max(0, i - 60), i) for _ in range(1 + (rng.random() < 0.5))}:
            add_edge(graph, paper.id, papers[parent].id, "lineage", "synthetic:bench",
                     relation=rng.choice(RELATIONS), evidence=f"Syn-{i} derives from Syn-{parent}",
                     evidence_ref=f"reading-lists/synthetic.md:{i}")
    save_graph(store, graph)
    return papers[n // 2].id


def measure_family(root: Path, playwright) -> dict[str, float]:
    focus = write_family(root)
    store = Store.at(root)
    from kg.graph.build import load_graph

    graph, corpus = load_graph(store), Corpus.load(store)
    family = family_graph(graph, focus, "family", None)
    python = time_runs(lambda: render_family_dot(layout_family(family, corpus, focus)), repeat=5)
    app = start_app(root, root.parent / "family-server.log")
    try:
        wait_healthy(app, timeout=120)
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app.url}/lineage?paper={focus}")  # warm-up: caches, wasm, fonts
        page.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for(timeout=120_000)
        times = []
        for _ in range(3):
            started = time.perf_counter()
            page.goto(f"{app.url}/lineage?paper={focus}&scope=family")
            page.wait_for_function(f"document.querySelectorAll('[data-testid=stGraphVizChart] svg g.node')"
                                   f".length >= {family.number_of_nodes()}", timeout=120_000)
            wait_for_run(page)
            times.append(time.perf_counter() - started)
        RESULTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(RESULTS / "app-lineage-500.png"), full_page=True)
        browser.close()
    finally:
        app.stop()
    return {"family_nodes": family.number_of_nodes(), "family_edges": family.number_of_edges(),
            "lineage_500_layout_and_dot_ms": round(python["median_s"] * 1000, 1),
            "lineage_500_page_to_drawn_median_s": round(statistics.median(times), 2),
            "lineage_500_page_to_drawn_max_s": round(max(times), 2)}


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="starts measured of each kind")
    parser.add_argument("--no-family", action="store_true", help="skip the 500-node lineage drawing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kg-bench-app-") as tmp, sync_playwright() as playwright:
        search_root = Path(tmp) / "data"
        build_all(copy_default_data(search_root), load_encoder())
        results: dict[str, float] = {"runs": args.runs}
        results.update(measure_start(search_root, playwright, args.runs, "restart"))
        results.update(measure_start(Path(tmp) / "fresh", playwright, args.runs, "first_start"))
        results.update(measure_search(search_root, playwright))
        if not args.no_family:
            results.update(measure_family(Path(tmp) / "family", playwright))
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    save_results("app", results)


if __name__ == "__main__":
    main()
