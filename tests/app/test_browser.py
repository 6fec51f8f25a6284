"""End to end in a real browser: `streamlit run app.py` on a loopback port, Debian's Chromium driven
by Playwright, the real embedding model. Screenshots go to test-artifacts/app/ (ignored by git).

The data directory is the default corpus plus the hostile paper, built once with the real model
before the server starts (so the test does not wait for a first-start build). Waits are on visible
conditions (the URL, an element, Streamlit's script state), never fixed sleeps.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote_plus

import bibtexparser
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pybtex.database import parse_string

from kg.search.encoders import load_encoder
from testkit.appdata import XSS_ID, XSS_TITLE, make_app_data
from testkit.live import ARTIFACTS, CHROMIUM, launch_chromium, start_app, wait_for_run, wait_healthy

pytestmark = [pytest.mark.browser, pytest.mark.model,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")]

SAMPLING = "which papers accelerate sampling?"
SHOTS = ARTIFACTS / "app"
# Six queries typed one after the other; each names a record its results must show (title or short name).
QUERIES = [("ControlNet", "ControlNet"), ("DreamBooth fine-tuning", "DreamBooth"), ("DDIM", "DDIM"),
           ("consistency models", "Consistency"), ("InstantID identity", "InstantID"), ("PixArt", "PixArt")]
WIDTHS = {"wide": (1400, 900), "narrow": (400, 800)}
# Every table either fits its box or sits in a box that scrolls sideways.
CLIPPED_TABLES = """() => [...document.querySelectorAll('[data-testid=stMain] table')].filter(t => {
  const box = t.parentElement;
  const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
  return (t.scrollWidth > t.clientWidth + 1 || t.getBoundingClientRect().width > box.clientWidth + 1)
         && !scrolls;
}).map(t => t.innerText.slice(0, 80))"""


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
def browser(live_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_app):
    """A fresh tab (1400×900, light) that records dialogs and every request leaving 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    tab = context.new_page()
    tab.dialogs, tab.outside = [], []
    tab.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.on("request", lambda r: tab.outside.append(r.url)
           if r.url.startswith(("http:", "https:", "ws:")) and not r.url.startswith(live_app.url) else None)
    yield tab
    assert not tab.dialogs, tab.dialogs
    assert not tab.outside, f"requests left the machine: {tab.outside}"
    context.close()


def main_text(page) -> str:
    return page.inner_text('[data-testid="stMain"]')


def settle(page) -> None:
    wait_for_run(page)
    page.locator('[data-testid="stMain"]').first.wait_for()


def pick_option(page, label: str, name: re.Pattern[str]) -> None:
    """Open a select box and pick an option, as a user does: open it again when a rerun of the page closed
    the list before the option could be clicked (a loaded machine can start the rerun late)."""
    option = page.get_by_role("option", name=name)
    for _ in range(3):
        wait_for_run(page)
        page.get_by_label(label).click()
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    option.click()


def hit_titles(page) -> list[str]:
    return page.locator("a.kg-hit-title").all_inner_texts()


def ask(page, query: str) -> float:
    """Type a query and press Enter; the seconds until its URL is set and its results are drawn."""
    box = page.get_by_label("Ask the reading lists")
    box.fill(query)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_url(re.compile(r"[?&]q=" + re.escape(quote_plus(query)).replace(r"\+", r"(\+|%20)")),
                      timeout=60_000)
    page.get_by_text(f"results for ‘{query}’").wait_for(timeout=60_000)
    wait_for_run(page)
    return time.perf_counter() - started


def shoot(page, name: str) -> Path:
    """A screenshot of the whole page (Streamlit scrolls its main block, so the viewport grows to fit)."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight || 900")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height) + 40, size["height"]), 8000)})
    wait_for_run(page)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def test_typed_queries_back_reload_and_the_selection_hold(live_app, page):
    page.goto(f"{live_app.url}/search")  # the documented URL
    page.get_by_label("Ask the reading lists").wait_for(timeout=60_000)
    for query, expected in QUERIES:
        ask(page, query)
        assert page.get_by_label("Ask the reading lists").input_value() == query, "the query was reverted"
        headers = page.locator(".kg-hit").all_inner_texts()
        assert any(expected.lower() in h.lower() for h in headers[:5]), (query, headers[:5])
    assert page.evaluate("history.length") <= 2, "typing queries adds no history entries"

    last = QUERIES[-1][0]
    page.get_by_text("Select", exact=True).first.click()
    page.get_by_text("1 selected for export").wait_for(timeout=30_000)  # the sidebar counts it
    page.locator("a.kg-hit-title").first.click()
    page.wait_for_url(re.compile(r"/paper\?paper="), timeout=30_000)
    page.get_by_role("heading", level=1).first.wait_for()
    page.go_back()
    page.wait_for_url(re.compile(r"/search\?q="), timeout=30_000)
    page.locator("a.kg-hit-title").first.wait_for(timeout=60_000)
    assert page.get_by_label("Ask the reading lists").input_value() == last
    page.get_by_role("link", name="Export").click()
    page.get_by_text("1 selected").first.wait_for(timeout=30_000)  # the selection survived navigation

    page.goto(f"{live_app.url}/search?q=diffusion")
    page.locator("a.kg-hit-title").first.wait_for(timeout=60_000)
    page.get_by_text("Options and filters").click()
    page.get_by_text("by words", exact=True).click()
    wait_for_run(page)
    pick_option(page, "Topics (reading-list sections)", re.compile("Series of Stable Diffusion"))
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(r"mode=by\+words.*topics=|topics=.*mode=by\+words"), timeout=30_000)
    settle(page)
    url, titles = page.url, hit_titles(page)
    page.reload()
    page.locator("a.kg-hit-title").first.wait_for(timeout=60_000)
    settle(page)
    assert page.url == url and hit_titles(page) == titles, "a reload shows the same view"
    assert "matched by words" in main_text(page)

    page.goto(f"{live_app.url}/lineage?paper=SDXL")
    page.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for(timeout=60_000)
    page.get_by_text("family", exact=True).click()
    page.wait_for_url(re.compile(r"scope=family"), timeout=30_000)
    settle(page)
    nodes = page.locator('[data-testid="stGraphVizChart"] svg g.node').count()
    page.reload()
    page.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for(timeout=60_000)
    settle(page)
    assert page.locator('[data-testid="stGraphVizChart"] svg g.node').count() == nodes


def test_paper_pages_fit_every_width_and_link_every_record(live_app, page):
    page.goto(f"{live_app.url}/paper?paper=NoSuchThing")
    page.get_by_text("No paper matches ‘NoSuchThing’").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_role("heading", level=1).count() == 0, "no other paper is shown"
    page.goto(f"{live_app.url}/paper?paper=Imagen%203")
    page.get_by_text("No paper matches ‘Imagen 3’").wait_for(timeout=60_000)
    page.locator('a[data-kg-nav][href$="paper=2205.11487"]').wait_for(timeout=30_000)  # Imagen is suggested

    for name in ("LDM", "SDXL"):
        for width, (w, h) in WIDTHS.items():
            page.set_viewport_size({"width": w, "height": h})
            page.goto(f"{live_app.url}/paper?paper={name}")
            page.get_by_role("heading", name=name, exact=True).wait_for(timeout=60_000)
            settle(page)
            assert page.evaluate(CLIPPED_TABLES) == [], (name, width)
            records = page.locator('td[data-label="record"]')
            assert records.count() >= 3
            assert records.count() == page.locator('td[data-label="record"] > a[href*="?paper="]').count()
            shoot(page, f"paper-{name}-{width}")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.locator('td[data-label="record"] > a', has_text="SDXL-Turbo").first.click()
    page.get_by_role("heading", name="SDXL-Turbo", exact=True).wait_for(timeout=30_000)
    assert "/paper?paper=" in page.url


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_in_light_and_dark_at_two_widths(live_app, browser, scheme):
    """Screenshots of search, paper, lineage and timeline; the drawing has no background of its own."""
    for width, (w, h) in WIDTHS.items():
        context = browser.new_context(viewport={"width": w, "height": h}, color_scheme=scheme)
        tab = context.new_page()
        tab.goto(f"{live_app.url}/search?q={quote_plus(SAMPLING)}")
        tab.locator("a.kg-hit-title").first.wait_for(timeout=60_000)
        shoot(tab, f"search-{scheme}-{width}")
        tab.goto(f"{live_app.url}/paper?paper=SDXL")
        tab.get_by_role("heading", name="SDXL", exact=True).wait_for(timeout=60_000)
        shoot(tab, f"paper-{scheme}-{width}")
        tab.goto(f"{live_app.url}/lineage?paper=SDXL&scope=family")
        tab.locator('td[data-label="from"] a').first.wait_for(timeout=60_000)
        if width == "wide":
            tab.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for(timeout=60_000)
            fills = tab.locator('[data-testid="stGraphVizChart"] svg g.graph > polygon').evaluate_all(
                "els => els.map(e => e.getAttribute('fill'))")
            assert not {"white", "#ffffff"} & set(fills), "no white box behind the drawing"
            sizes = tab.locator('[data-testid="stGraphVizChart"] svg text').evaluate_all(
                "els => els.map(e => e.getBoundingClientRect().height)")
            assert min(sizes) >= 12, "labels are at least 12 px high"
        else:
            assert not tab.locator('[data-testid="stGraphVizChart"]').first.is_visible(), "a list instead"
        shoot(tab, f"lineage-{scheme}-{width}")
        tab.goto(f"{live_app.url}/timeline")
        tab.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
        wait_for_run(tab)
        shoot(tab, f"timeline-{scheme}-{width}")
        context.close()


def test_search_open_lineage_export_in_chromium(live_app, page):
    timings: dict[str, float] = {}
    page.goto(live_app.url)
    page.get_by_label("Ask the reading lists").wait_for(timeout=60_000)
    timings["first_query_s"] = ask(page, SAMPLING)
    assert len(hit_titles(page)) == 10
    assert page.locator("blockquote").count() >= 10, "every result shows its matching sentence"
    assert "matched in" in main_text(page) and "hybrid" not in main_text(page)
    timings["warm_query_s"] = ask(page, "distillation for few-step image generation")

    page.get_by_role("link", name="Lineage explorer").click()
    page.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for(timeout=60_000)
    labels = page.locator('[data-testid="stGraphVizChart"] svg g.node text').evaluate_all(
        "els => els.map(e => e.textContent)")
    assert "LDM" in labels and "SDXL" in labels, labels
    tips = page.locator('[data-testid="stGraphVizChart"] svg g.edge a').evaluate_all(
        "els => els.map(e => e.getAttribute('xlink:title') || e.getAttribute('title'))")
    assert any(t and t.startswith("extends: ") and ".md:31" in t for t in tips), "evidence shows on hover"
    page.get_by_role("button", name=re.compile(r"^Add these \d+ to the export selection")).click()
    wait_for_run(page)
    page.locator('[data-testid="stGraphVizChart"] svg g.node a', has_text="LDM").first.click()
    page.get_by_role("heading", name="LDM", exact=True).wait_for(timeout=30_000)  # a node opens its paper
    page.get_by_role("link", name="Export").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(r"^Download .*\.bib$")).click()
    bib_path = SHOTS / "selection.bib"
    download_info.value.save_as(bib_path)
    bib = bib_path.read_text(encoding="utf-8")
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks and len(library.entries) >= 5, "the family survived the node click"
    assert len(parse_string(bib, "bibtex").entries) == len(library.entries)
    assert any(e.fields_dict["eprint"].value == "2112.10752" for e in library.entries if "eprint" in e.fields_dict)
    (SHOTS / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")


def test_hostile_title_is_shown_as_text_and_never_runs(live_app, page):
    page.goto(f"{live_app.url}/paper?paper={XSS_ID}")
    heading = page.get_by_role("heading", level=1)
    heading.wait_for(timeout=60_000)
    page.get_by_text("onerror=alert(2)").first.wait_for(timeout=30_000)
    settle(page)
    assert heading.first.inner_text().strip() == XSS_TITLE
    main = page.locator('[data-testid="stMain"]')
    assert "<img src=x onerror=alert(2)>" in main.inner_text()
    assert main.locator("script, img[src='x'], b:text-is('x')").count() == 0

    page.goto(f"{live_app.url}/lineage?paper=SDXL")
    page.locator('[data-testid="stGraphVizChart"] svg g.node').first.wait_for(timeout=30_000)
    labels = page.locator('[data-testid="stGraphVizChart"] svg g.node text').evaluate_all(
        "els => els.map(e => e.textContent)")
    assert any(t.startswith("<script>alert(1)</script> &") for t in labels), labels

    page.goto(f"{live_app.url}/?q=script+alert+bold")
    page.locator("a.kg-hit-title").first.wait_for(timeout=60_000)
    assert XSS_TITLE in main.inner_text()
    page.goto(f"{live_app.url}/timeline")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
    wait_for_run(page)
    hostile = page.locator(f'[data-testid="stVegaLiteChart"] path[aria-label*="title: {XSS_TITLE}"]').first
    hostile.hover(force=True)
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.get_by_text(XSS_TITLE).first.wait_for(timeout=10_000)
    assert tooltip.locator("script, b").count() == 0, tooltip.inner_html()
    assert main.locator("script").count() == 0
    sdxl = page.locator('[data-testid="stVegaLiteChart"] path[aria-label*="title: SDXL: Improving"]').first
    box = sdxl.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"/paper\?paper=2307\.01952"), timeout=30_000)
    page.get_by_role("heading", name="SDXL", exact=True).wait_for()
