"""Headless tests of every page of app.py and its main interactions (streamlit.testing AppTest).

The data directory is a copy of the default corpus plus one hostile paper, built with the fake
encoder; conftest.py points the app at it through KG_DATA_DIR.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import bibtexparser
import pandas as pd
import rispy
import streamlit as st
from pybtex.database import parse_string
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from kg.model import Paper
from kg.pipeline import BuildPlan
from kg.store import Store
from kgapp.escape import esc_md
from testkit.appdata import SDXL, XSS_ID, XSS_TITLE
from tests.app.conftest import APP

SAMPLING = "which papers accelerate sampling?"


def texts(at, kind: str) -> list[str]:
    return [str(e.value) for e in at.get(kind)]


def shown(value):
    """What a static table's cell displays: its Markdown escapes resolved."""
    return re.sub(r"\\(.)", r"\1", value) if isinstance(value, str) else value


def frames(at) -> list[pd.DataFrame]:
    """The tables a page shows, in order: small ones are static tables (first column as index)."""
    return [e.value.reset_index().map(shown) for e in at.table] + [e.value for e in at.dataframe]


def dot(at) -> str:
    charts = at.get("graphviz_chart")
    assert charts, "no graph drawn"
    return charts[0].proto.spec


def hit_ids(at) -> list[str]:
    return [b.key.removeprefix("open-") for b in at.button if b.key and b.key.startswith("open-")]


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
    assert len(captions) == 10 and all("·" in c for c in captions)
    assert at.query_params["q"] == [SAMPLING] or at.query_params["q"] == SAMPLING


def test_deep_link_q_runs_the_query_and_filters_and_modes_apply(run_app):
    at = run_app(q="SDXL latent diffusion high-resolution")
    assert_clean(at)
    assert SDXL in hit_ids(at)
    at.radio(key="mode").set_value("bm25").run()
    at.slider(key="k").set_value(3).run()
    assert len(hit_ids(at)) == 3
    at.slider(key="years").set_value((2013, 2014)).run()
    assert_clean(at)
    assert SDXL not in hit_ids(at)


def test_no_result_and_bad_query_states_explain_themselves(run_app):
    at = run_app(q="zzqqxx")
    at.radio(key="mode").set_value("bm25").run()
    assert_clean(at)
    assert any("No paper matches" in t for t in texts(at, "info"))
    at.text_input(key="q").set_value("???").run()
    assert any("no letters or digits" in t for t in texts(at, "warning"))


def test_open_a_result_shows_the_paper_with_its_lineage(run_app):
    at = run_app(q="SDXL improving latent diffusion models")
    at.radio(key="mode").set_value("bm25").run()
    at.button(key=f"open-{SDXL}").click().run()
    assert_clean(at)
    assert texts(at, "title") == ["SDXL"]
    up, down = [f for f in frames(at) if "generation" in f.columns]
    assert "LDM" in set(up["record"].str.strip()) and "extends" in set(up["relation"])
    assert {"SDXL-Turbo", "SDXL-Lightning"} <= set(down["record"].str.strip())


# ---- paper page -------------------------------------------------------------------------------------
def test_paper_page_shows_provenance_notes_mentions_and_missing_abstract(run_app):
    at = run_app(paper="LDM")
    assert_clean(at)
    assert texts(at, "title") == ["LDM"]
    assert "abstract not fetched yet (run `kg fetch` when online)" in texts(at, "info")
    meta = frames(at)[0]
    title = meta[meta["field"] == "Title"].iloc[0]
    assert title["value"] == "High-Resolution Image Synthesis with Latent Diffusion Models"
    assert title["source"].startswith("facts:")
    assert meta[meta["field"] == "Version seen"].iloc[0].to_dict() == {"field": "Version seen", "value": "—",
                                                                       "source": "—"}
    assert any(t.startswith("> ") for t in texts(at, "markdown")), "the lists' notes are shown"
    assert any("sentence" in f.columns and len(f) > 3 for f in frames(at)), "mentions are listed"
    assert any("similarity" in t for t in texts(at, "markdown")), "similar papers are listed"
    assert any("no citation data yet" in t for t in texts(at, "caption"))


def test_paper_page_export_this_gives_one_bibtex_entry(run_app):
    at = run_app(paper="2112.10752")
    code = at.code[0].value
    entries = bibtexparser.parse_string(code).entries
    assert len(entries) == 1 and entries[0]["eprint"] == "2112.10752"
    at.selectbox(key="this-fmt").set_value("ris").run()
    assert rispy.load(io.StringIO(at.code[0].value))[0]["title"].startswith("High-Resolution")


def test_unknown_paper_in_the_url_warns_with_suggestions(run_app):
    at = run_app(paper="Stable Diffusoin XXL")
    assert_clean(at)
    assert any("no paper or system matches" in t for t in texts(at, "warning"))


def test_picking_another_paper_updates_the_url(run_app):
    at = run_app(paper="SDXL")
    at.selectbox(key="paper_pick").set_value("2112.10752").run()
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
def test_first_start_builds_with_a_progress_bar_then_serves(run_unbuilt, monkeypatch):
    shown: list[str] = []
    real = DeltaGenerator.progress

    def spy(self, value, text=None, **kwargs):
        shown.append(text or "")
        return real(self, value, text=text, **kwargs)

    def spy_st(value, text=None, **kwargs):  # st.progress is bound to the main DeltaGenerator at import
        shown.append(text or "")
        return real_st(value, text=text, **kwargs)

    real_st = st.progress
    monkeypatch.setattr(DeltaGenerator, "progress", spy)
    monkeypatch.setattr(st, "progress", spy_st)
    at = run_unbuilt(q=SAMPLING)
    assert_clean(at)
    steps = [t for t in shown if t.startswith("Step ")]
    n = len(BuildPlan(Store(Path("unused"))).steps)  # 6: the ONNX export is a step of its own
    assert [t[:11] for t in steps] == [f"Step {i} of {n}" for i in range(1, n + 1)]
    assert shown[-1].startswith("Built")
    assert texts(at, "title") == ["Search"] and len(hit_ids(at)) == 10
    shown.clear()
    again = run_unbuilt()
    assert texts(again, "title") == ["Search"] and not shown, "a second start loads what the first built"


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
    for widget in [*at.button, *at.checkbox]:
        assert not unescaped(str(widget.label))


def test_hostile_title_renders_as_text_on_every_page(run_app):
    at = run_app(paper=XSS_ID)
    assert_clean(at)
    assert texts(at, "title") == [esc_md(XSS_TITLE)]
    assert_no_raw_html(at)
    at = run_app(q="script alert")
    at.radio(key="mode").set_value("bm25").run()
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
