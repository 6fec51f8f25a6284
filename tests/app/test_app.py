"""Headless tests of every page of app.py and its main interactions (streamlit.testing AppTest).

The data directory is a copy of the default corpus plus one hostile paper, built with the fake
encoder; conftest.py points the app at it through KG_DATA_DIR.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
from urllib.parse import unquote

import bibtexparser
import pandas as pd
import pytest
import rispy
from pybtex.database import parse_string
from streamlit.testing.v1 import AppTest

from kg.model import Paper
from kg.store import Store
from kgapp import state
from kgapp.escape import esc_md
from testkit.appdata import SDXL, XSS_ID, XSS_TITLE
from tests.app.conftest import APP

SAMPLING = "which papers accelerate sampling?"


def texts(at, kind: str) -> list[str]:
    return [str(e.value) for e in at.get(kind)]


def shown(value):
    """What a static table's cell displays: its Markdown escapes resolved."""
    return re.sub(r"\\(.)", r"\1", value) if isinstance(value, str) else value


def html_bodies(at) -> list[str]:
    """The HTML blocks a page shows (kgapp.links' tables, links and result headers), without the chrome."""
    return [e.proto.body for e in at.get("html") if "__kgNav" not in e.proto.body]


def frames(at) -> list[pd.DataFrame]:
    """The tables a page shows, in order (HTML tables: every cell's text)."""
    return [pd.read_html(io.StringIO(body), flavor="lxml")[0].fillna("") for body in html_bodies(at)
            if "<table" in body]


def record_links(body: str) -> list[str]:
    """The record ids a block links to (`<a data-kg-nav … href="paper?paper=ID">`)."""
    return [unquote(i) for i in re.findall(r'<a data-kg-nav="1"[^>]* href="paper\?paper=([^"]+)"', body)]


def dot(at) -> str:
    charts = at.get("graphviz_chart")
    assert charts, "no graph drawn"
    return charts[0].proto.spec


def hit_ids(at) -> list[str]:
    return [b.key.removeprefix("sel-") for b in at.checkbox if b.key and b.key.startswith("sel-")]


def assert_clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


# ---- search -----------------------------------------------------------------------------------------
def test_search_page_explains_itself_before_a_query(run_app):
    at = run_app()
    assert_clean(at)
    assert texts(at, "title") == ["Search"]
    assert any("Type a question" in t for t in texts(at, "info"))


def test_a_query_lists_results_with_their_matching_sentence(run_app):
    at = run_app()
    at.text_input(key="q").set_value(SAMPLING).run()
    assert_clean(at)
    ids = hit_ids(at)
    assert len(ids) == 10
    quotes = [t for t in texts(at, "markdown") if t.startswith("> ")]
    assert len(quotes) == 10, "every hit shows the sentence it matched"
    captions = [t for t in texts(at, "caption") if t.startswith("matched in")]
    assert len(captions) == 10 and not any("hybrid" in c or "bm25" in c for c in captions)
    headers = [b for b in html_bodies(at) if "kg-hit-title" in b]
    assert [record_links(b)[0] for b in headers] == ids, "every result's title links to its paper page"
    assert "arxiv.org/abs/" in "".join(headers) and any("et al." in b or "," in b for b in headers)
    at.toggle(key="details").set_value(True).run()
    details = [t for t in texts(at, "caption") if t.startswith("matched in")]
    assert all("matched both" in c for c in details) and any("by meaning" in c for c in details), details[:2]


def test_deep_link_q_runs_the_query_and_filters_and_modes_apply(run_app):
    at = run_app(q="SDXL latent diffusion high-resolution")
    assert_clean(at)
    assert SDXL in hit_ids(at)
    at.radio(key="mode").set_value("by words").run()
    at.slider(key="k").set_value(3).run()
    assert len(hit_ids(at)) == 3
    at.slider(key="years").set_value((2013, 2014)).run()
    assert_clean(at)
    assert SDXL not in hit_ids(at)


def test_no_result_and_bad_query_states_explain_themselves(run_app):
    at = run_app(q="zzqqxx")
    at.radio(key="mode").set_value("by words").run()
    assert_clean(at)
    assert any("No paper matches" in t for t in texts(at, "info"))
    at.text_input(key="q").set_value("???").run()
    assert any("no letters or digits" in t for t in texts(at, "warning"))


def test_paper_page_lineage_tables_link_every_record(run_app):
    at = run_app(paper="SDXL")
    assert_clean(at)
    assert texts(at, "title") == ["SDXL"]
    up, down = [f for f in frames(at) if "relation" in f.columns and "record" in f.columns][:2]
    assert "LDM" in set(up["record"]) and "extends" in set(up["relation"])
    assert {"SDXL-Turbo", "SDXL-Lightning"} <= set(down["record"])
    lineage = [b for b in html_bodies(at) if "<table" in b and "relation" in b][:2]
    for body, frame in zip(lineage, (up, down), strict=True):
        assert len(record_links(body)) == len(frame), "every record of a lineage table is a link"
    assert "2112.10752" in record_links(lineage[0])


# ---- paper page -------------------------------------------------------------------------------------
def test_paper_page_shows_provenance_notes_mentions_and_missing_abstract(run_app):
    at = run_app(paper="LDM")
    assert_clean(at)
    assert texts(at, "title") == ["LDM"]
    assert "Abstract: no abstract yet — `kg fetch` fills it in when online" in texts(at, "caption")
    meta = [f for f in frames(at) if "field" in f.columns][0]
    title = meta[meta["field"] == "Title"].iloc[0]
    assert title["value"] == "High-Resolution Image Synthesis with Latent Diffusion Models"
    assert title["source"].startswith("facts:")
    assert meta[meta["field"] == "Version seen"].iloc[0].to_dict() == {"field": "Version seen", "value": "—",
                                                                       "source": "—"}
    notes = [f for f in frames(at) if "note" in f.columns][0]
    assert len(notes) >= 1 and not notes["note"].str.contains(r"\*\*|\]\(", regex=True).any(), "notes as text"
    assert any("sentence" in f.columns and len(f) > 3 for f in frames(at)), "mentions are listed"
    assert any("similarity" in b and record_links(b) for b in html_bodies(at)), "similar papers are links"
    assert any("no citation data yet" in t for t in texts(at, "caption"))


def test_a_model_release_has_no_abstract_line(run_app):
    at = run_app(paper="system:sd-v1-5")
    assert_clean(at)
    assert not any("Abstract" in t for t in texts(at, "caption") + texts(at, "subheader"))


def test_paper_page_export_this_gives_one_bibtex_entry(run_app):
    at = run_app(paper="2112.10752")
    code = at.code[0].value
    entries = bibtexparser.parse_string(code).entries
    assert len(entries) == 1 and entries[0]["eprint"] == "2112.10752"
    at.selectbox(key="this-fmt").set_value("ris").run()
    assert rispy.load(io.StringIO(at.code[0].value))[0]["title"].startswith("High-Resolution")


@pytest.mark.parametrize("name", ["Stable Diffusoin XXL", "Imagen 3", "NoSuchThing"])
def test_a_name_that_matches_no_record_shows_no_paper_and_suggestions(run_app, name):
    at = run_app(paper=name)
    assert_clean(at)
    assert any(t.startswith("No paper matches ‘") for t in texts(at, "warning"))
    assert not texts(at, "title") and not frames(at), "no other paper is shown instead"
    if name == "Imagen 3":
        assert any("2205.11487" in record_links(b) for b in html_bodies(at)), "Imagen is suggested"


def test_picking_another_paper_navigates_to_it(run_app):
    at = run_app(paper="SDXL")
    at.selectbox(key="paper_pick").set_value("2112.10752").run()
    assert_clean(at)
    assert texts(at, "title") == ["LDM"]
    assert at.query_params["paper"] in ("2112.10752", ["2112.10752"])


# ---- lineage explorer -------------------------------------------------------------------------------
def test_sdxl_family_shows_ldm_upstream_with_evidence(run_app):
    at = run_app(lineage="SDXL")
    assert_clean(at)
    assert texts(at, "title") == ["Lineage explorer"]
    spec = dot(at)
    assert f'"{SDXL}" -> "2112.10752" [label="extends"' in spec
    assert 'label="LDM\\n2021-12-20"' in spec
    evidence = frames(at)[0]
    row = evidence[(evidence["from"] == "SDXL") & (evidence["to"] == "LDM")].iloc[0]
    assert row["relation"] == "extends" and row["where"].endswith(".md:31") and row["source"].startswith("curated:")
    body = [b for b in html_bodies(at) if "<table" in b][0]
    assert len(record_links(body)) == 2 * len(evidence), "both records of every link are links"


def test_lineage_layout_is_the_same_on_every_rerun_and_session(run_app):
    first = run_app(lineage="SDXL")
    spec = dot(first)
    first.run()
    assert dot(first) == spec
    assert dot(run_app(lineage="SDXL")) == spec


def test_whole_family_scope_and_depth(run_app):
    at = run_app(lineage="SDXL")
    nodes = lambda a: dot(a).count("pos=")  # noqa: E731
    around = nodes(at)
    at.radio(key="scope").set_value("family").run()
    assert_clean(at)
    assert nodes(at) > around and "system:sd-v1-5" in dot(at), "the family includes SD v1.5's line"
    at.radio(key="scope").set_value("lineage").run()
    at.slider(key="depth").set_value(1).run()
    assert nodes(at) < around


def test_lineage_family_goes_to_the_export_selection(run_app):
    at = run_app(lineage="SDXL")
    at.button(key="lineage-select").click().run()
    chosen = at.session_state["selection"]
    assert SDXL in chosen and "2112.10752" in chosen


# ---- timeline ---------------------------------------------------------------------------------------
def test_timeline_draws_every_dated_record_and_opens_a_paper(run_app):
    at = run_app(page="timeline")
    assert_clean(at)
    assert texts(at, "title") == ["Timeline"]
    chart = at.get("vega_lite_chart")[0].proto
    spec = json.loads(chart.spec)
    assert spec["encoding"]["color"]["field"] == "topic"
    assert any("undated records are not shown" in t for t in texts(at, "caption"))
    at.radio(key="colour").set_value("era").run()
    assert json.loads(at.get("vega_lite_chart")[0].proto.spec)["encoding"]["color"]["field"] == "era"
    at.selectbox(key="timeline_pick").set_value(SDXL).run()
    assert texts(at, "title") == ["SDXL"]


# ---- export -----------------------------------------------------------------------------------------
def test_export_page_empty_selection_explains_itself(run_app):
    at = run_app(page="export")
    assert_clean(at)
    assert any("Nothing selected yet" in t for t in texts(at, "info"))


def test_export_page_bibtex_parses_with_bibtexparser_and_pybtex(run_app):
    at = run_app(page="export")
    at.button(key="add-all").click().run()
    assert_clean(at)
    chosen = at.session_state["selection"]
    assert len(chosen) > 80
    bib = at.code[0].value
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks
    assert len(library.entries) == len(chosen)
    assert len(parse_string(bib, "bibtex").entries) == len(chosen)
    assert at.get("download_button")[0].proto.label.endswith(".bib")


def test_export_page_other_formats(run_app):
    at = run_app(page="export")
    at.selectbox(key="export-topic").set_value("Image Generation > Series of Stable Diffusion Models").run()
    at.button(key="add-topic").click().run()
    n = len(at.session_state["selection"])
    assert n >= 5
    at.selectbox(key="selection-fmt").set_value("csl-json").run()
    assert len(json.loads(at.code[0].value)) == n
    at.selectbox(key="selection-fmt").set_value("markdown").run()
    assert at.selectbox(key="selection-style").value == "apa"
    assert_clean(at)


# ---- first start ------------------------------------------------------------------------------------
def test_first_start_answers_by_words_while_it_builds_then_serves(run_unbuilt):
    at = run_unbuilt(q=SAMPLING)
    assert_clean(at)
    assert texts(at, "title") == ["Search"] and len(hit_ids(at)) == 10, "answered at once, by words"
    assert any("matched by words" in t for t in texts(at, "caption"))
    job = state._build_jobs()[str(state.store().root)]
    deadline = time.monotonic() + 120
    while not job["done"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job["done"] and not job["error"], job
    again = run_unbuilt(q=SAMPLING)
    assert_clean(again)
    assert len(hit_ids(again)) == 10 and any("matched both" in t for t in texts(again, "caption"))
    assert not again.get("progress"), "a second start loads what the first built"


# ---- escaping ---------------------------------------------------------------------------------------
RAW = ("<script>", "<b>", "<img", "<i>", ":red[")
MARKDOWN_KINDS = ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success")


def unescaped(markdown: str) -> bool:
    """Whether markdown holds one of RAW outside backslash escapes (escaped characters removed first)."""
    bare = re.sub(r"\\.", "", markdown)
    return any(raw in bare for raw in RAW)


def assert_no_raw_html(at) -> None:
    for kind in MARKDOWN_KINDS:
        for text in texts(at, kind):
            assert not unescaped(text), f"unescaped data in {kind}: {text!r}"
    for body in html_bodies(at):
        assert not any(raw in body for raw in RAW if raw.startswith("<")), f"unescaped data in HTML: {body[:300]!r}"
    for widget in [*at.button, *at.checkbox]:
        assert not unescaped(str(widget.label))


def test_hostile_title_renders_as_text_on_every_page(run_app):
    at = run_app(paper=XSS_ID)
    assert_clean(at)
    assert texts(at, "title") == [esc_md(XSS_TITLE)]
    assert_no_raw_html(at)
    at = run_app(q="script alert")
    at.radio(key="mode").set_value("by words").run()
    assert XSS_ID in hit_ids(at)
    assert_no_raw_html(at)
    at = run_app(lineage="SDXL")
    spec = dot(at)
    assert "<script>" not in spec and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in spec
    assert_no_raw_html(at)
    at = run_app(page="timeline")
    assert_no_raw_html(at)
    at = run_app(page="export")
    at.button(key="add-all").click().run()
    assert any("\\&" in e.fields_dict["title"].value for e in bibtexparser.parse_string(at.code[0].value).entries
               if "alert" in e.fields_dict["title"].value)
    assert_no_raw_html(at)


# ---- missing and stale data -------------------------------------------------------------------------
def test_no_corpus_says_to_ingest_and_stops(monkeypatch, tmp_path):
    monkeypatch.setenv("KG_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert_clean(at)
    assert any("run `kg ingest`" in t for t in texts(at, "info"))
    assert not texts(at, "title")


def test_a_stale_index_is_explained_and_rebuilt_on_request(run_app, app_data):
    store = Store.at(app_data)
    store.save_papers([*store.load_papers(), Paper(id="title:added", title="A paper added after the build")])
    at = run_app(q=SAMPLING)
    assert_clean(at)
    assert any("cannot be used" in t for t in texts(at, "warning")) and not hit_ids(at)
    at.button(key="rebuild").click().run()
    assert_clean(at)
    assert len(hit_ids(at)) == 10 and not texts(at, "warning")


# ---- views never write ------------------------------------------------------------------------------
def checksums(root) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_showing_every_page_and_every_export_format_writes_nothing(run_app, app_data):
    store = Store.at(app_data)
    store.save_papers([*store.load_papers(), Paper(id="title:unkeyed", title="A paper with no key yet")])
    from testkit.appdata import build_all
    from tests.app.conftest import fake_encoder
    build_all(store, fake_encoder())  # the build fits the changed corpus again
    before = checksums(app_data)
    for params in ({"q": SAMPLING}, {"paper": "LDM"}, {"paper": "title:unkeyed"}, {"lineage": "SDXL"},
                   {"page": "timeline"}):
        assert_clean(run_app(**params))
    at = run_app(page="export")
    at.button(key="add-all").click().run()
    for fmt in ("bibtex", "biblatex", "ris", "csl-json", "markdown"):
        at.selectbox(key="selection-fmt").set_value(fmt).run()
        assert_clean(at) and at.code[0].value
    assert checksums(app_data) == before, "a view wrote to the data directory"
