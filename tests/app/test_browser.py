"""End to end in a real browser: `streamlit run app.py` on a loopback port, Debian's Chromium driven
by Playwright, the real embedding model. Screenshots go to test-artifacts/app/ (ignored by git).

The data directory is the default corpus plus the hostile paper, built once with the real model
before the server starts (so the test does not wait for a first-start build).
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import bibtexparser
import pytest
from pybtex.database import parse_string

from kg.search.encoders import load_encoder
from testkit.appdata import XSS_ID, XSS_TITLE, make_app_data
from testkit.live import ARTIFACTS, CHROMIUM, launch_chromium, start_app, wait_for_run, wait_healthy

pytestmark = [pytest.mark.browser, pytest.mark.model,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]

SAMPLING = "which papers accelerate sampling?"
SHOTS = ARTIFACTS / "app"
DIALOGS: list[str] = []  # messages of every alert/confirm/prompt the pages opened (there must be none)
# Papers about faster sampling, distillation or few-step generation (any of them may lead the list).
FAST = ("Progressive Distillation", "Multistep Consistency", "Denoising Diffusion Implicit", "Imagine Flash",
        "Adversarial Diffusion Distillation", "SDXL-Lightning", "PixArt", "Consistency Models", "Improved Denoising")


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("browser") / "data"
    make_app_data(root, load_encoder())
    app = start_app(root, SHOTS / "server.log")
    try:
        wait_healthy(app)
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def page(live_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pg = context.new_page()
        pg.on("dialog", lambda d: (DIALOGS.append(d.message), d.dismiss()))
        yield pg
        browser.close()


def shoot(page, name: str) -> Path:
    """A screenshot of the whole page (Streamlit scrolls its main block, so the viewport grows to fit)."""
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight || 1000")
    page.set_viewport_size({"width": 1400, "height": min(max(int(height) + 40, 1000), 8000)})
    page.wait_for_timeout(700)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 1000})
    return path


def svg_texts(locator) -> list[str]:
    """Text of SVG elements (which have no innerText)."""
    return locator.evaluate_all("els => els.map(e => e.textContent)")


def ask(page, query: str) -> float:
    """Type a query and press Enter; the seconds until its results are drawn."""
    box = page.get_by_label("Ask the reading lists")
    box.fill(query)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_timeout(100)
    wait_for_run(page)
    page.locator('[data-testid="stMarkdownContainer"] blockquote').first.wait_for(timeout=60_000)
    return time.perf_counter() - started


def test_search_open_lineage_export_in_chromium(live_app, page):
    timings: dict[str, float] = {}
    page.goto(live_app.url)
    page.get_by_label("Ask the reading lists").wait_for(timeout=60_000)
    timings["first_page_s"] = time.perf_counter() - live_app.started

    timings["first_query_s"] = ask(page, SAMPLING)
    titles = page.locator('[data-testid="stMain"] [data-testid="stMarkdownContainer"] strong').all_inner_texts()
    results = [t for t in titles if re.match(r"^\d+\. ", t)]
    assert len(results) == 10
    assert sum(any(f in t for f in FAST) for t in results[:5]) >= 3, results[:5]
    assert page.locator("blockquote").count() >= 10, "every result shows its matching sentence"
    assert "matched in" in page.inner_text('[data-testid="stMain"]')
    shoot(page, "1-search")
    timings["warm_query_s"] = ask(page, "distillation for few-step image generation")
    ask(page, SAMPLING)

    first = results[0].split(". ", 1)[1]
    page.get_by_role("button", name="Open").first.click()
    wait_for_run(page)
    page.get_by_role("heading", name="Lineage").wait_for()
    assert first in page.inner_text('[data-testid="stMain"]')
    assert "/paper?paper=" in page.url
    assert "abstract not fetched yet" in page.inner_text('[data-testid="stMain"]')
    shoot(page, "2-paper")

    page.get_by_role("link", name="Lineage explorer").click()
    wait_for_run(page)
    picker = page.get_by_label("Paper or model release")
    picker.click()
    page.keyboard.type("SDXL: Improving")
    page.get_by_role("option", name=re.compile(r"^SDXL — SDXL: Improving")).click()
    wait_for_run(page)
    nodes = page.locator('[data-testid="stGraphVizChart"] svg g.node')
    nodes.first.wait_for(timeout=30_000)
    labels = svg_texts(page.locator('[data-testid="stGraphVizChart"] svg g.node text'))
    assert "LDM" in labels and "SDXL" in labels, labels
    tips = page.locator('[data-testid="stGraphVizChart"] svg g.edge a').evaluate_all(
        "els => els.map(e => e.getAttribute('xlink:title') || e.getAttribute('title'))")
    assert any(t and t.startswith("extends: ") and ".md:31" in t for t in tips), "evidence shows on hover"
    shoot(page, "3-lineage-sdxl")

    page.get_by_role("button", name=re.compile(r"^Add these \d+ to the export selection")).click()
    wait_for_run(page)
    page.get_by_role("link", name="Export").click()
    wait_for_run(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(r"^Download .*\.bib$")).click()
    bib_path = SHOTS / "selection.bib"
    download_info.value.save_as(bib_path)
    bib = bib_path.read_text(encoding="utf-8")
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks and len(library.entries) >= 5
    assert len(parse_string(bib, "bibtex").entries) == len(library.entries)
    assert any(e.fields_dict["eprint"].value == "2112.10752" for e in library.entries if "eprint" in e.fields_dict)
    shoot(page, "4-export")
    assert not DIALOGS, DIALOGS
    (SHOTS / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")


def test_hostile_title_is_shown_as_text_and_never_runs(live_app, page):
    page.goto(f"{live_app.url}/paper?paper={XSS_ID}")
    heading = page.get_by_role("heading", level=1)
    heading.wait_for(timeout=60_000)
    assert heading.first.inner_text().strip() == XSS_TITLE
    main = page.locator('[data-testid="stMain"]')
    assert "<img src=x onerror=alert(2)>" in main.inner_text()
    assert main.locator("script, img[src='x'], b:text-is('x')").count() == 0
    shoot(page, "5-hostile-paper")

    page.goto(f"{live_app.url}/lineage?paper=SDXL")
    page.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for(timeout=30_000)
    labels = svg_texts(page.locator('[data-testid="stGraphVizChart"] svg g.node text'))
    assert any(t.startswith("<script>alert(1)</script> &") for t in labels), labels
    shoot(page, "6-hostile-lineage")

    page.goto(f"{live_app.url}/?q=script+alert+bold")
    wait_for_run(page)
    page.locator("blockquote").first.wait_for(timeout=60_000)
    assert XSS_TITLE in main.inner_text()
    page.goto(f"{live_app.url}/timeline")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
    wait_for_run(page)
    hostile = page.locator(f'[data-testid="stVegaLiteChart"] path[aria-label*="title: {XSS_TITLE}"]').first
    hostile.hover(force=True)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.get_by_text(XSS_TITLE).first.wait_for(timeout=10_000)
    assert tooltip.locator("script, b").count() == 0, tooltip.inner_html()
    shoot(page, "7-timeline")
    assert main.locator("script").count() == 0
    sdxl = page.locator('[data-testid="stVegaLiteChart"] path[aria-label*="title: SDXL: Improving"]').first
    box = sdxl.bounding_box()
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)  # its left edge: a neighbour overlaps the right
    page.wait_for_url(re.compile(r"/paper\?paper=2307\.01952"), timeout=30_000)
    page.get_by_role("heading", name="SDXL", exact=True).wait_for()
    assert not DIALOGS, DIALOGS
