"""The app's view models (kgapp): escaping, the layered lineage layout, timeline rows, first start."""

from __future__ import annotations

import random
import re
import time

import networkx as nx
import pandas as pd
import pytest

from kg.corpus import Corpus
from kg.model import Note, Paper, System
from kg.store import Store
from kgapp import build as vbuild
from kgapp.escape import esc_dot, esc_md
from kgapp.family import SPLINE_LIMIT, UNDATED, layout_family, render_family_dot
from kgapp.records import ABSTRACT_MISSING, MISSING, abstract_text, badges_md, metadata_rows, note_rows
from kgapp.timeline import BEFORE_ERAS, build_eras, record_date, timeline_frame
from testkit.appdata import REPO, XSS_TITLE, copy_default_data

# ---- escaping ---------------------------------------------------------------------------------------


def test_markdown_escaping_leaves_no_markup_and_folds_lines():
    text = esc_md(XSS_TITLE + "\n\n# heading *em* `code` $x$ :red[r] [link](javascript:x)")
    assert "\n" not in text
    assert not re.search(r"(?<!\\)[<>*`$\[\]#&]", text), text
    assert re.sub(r"\\(.)", r"\1", text) == XSS_TITLE + " # heading *em* `code` $x$ :red[r] [link](javascript:x)"


def test_dot_escaping_uses_entities_and_doubles_backslashes():
    assert esc_dot('<b>"A" & B\\N</b>') == "&lt;b&gt;&quot;A&quot; &amp; B\\\\N&lt;/b&gt;"
    short = esc_dot("a & b & c & d", limit=6)
    assert short == "a &amp; b…", "shortened before escaping, so no entity is cut"


# ---- records ----------------------------------------------------------------------------------------
def test_metadata_rows_name_their_source_and_never_fill_a_gap():
    paper = Paper(id="2101.00001", title="T", published="2021-01", published_precision="month",
                  provenance={"title": "facts:x", "published": "list:a.md:3"})
    rows = {r["field"]: r for r in metadata_rows(paper)}
    assert rows["Title"] == {"field": "Title", "value": "T", "source": "facts:x"}
    assert rows["Published"]["value"] == "2021-01 (month)"
    assert rows["DOI"] == {"field": "DOI", "value": MISSING, "source": MISSING}
    assert abstract_text(paper) is None and "kg fetch" in ABSTRACT_MISSING
    system = System(id="system:x", name="X", aliases=["X1"])
    assert {r["field"] for r in metadata_rows(system)} >= {"Name", "Organisation", "Described in"}


def test_badges_and_notes_of_a_hostile_record_are_escaped():
    paper = Paper(id="p", title=XSS_TITLE, published="2024", venue="<i>V</i>", topics=["A > B", "<b>T</b>"],
                  notes=[Note(text="<script>", file="f.md", line=2, section="S")])
    md = badges_md(paper)
    assert md.startswith(":blue-badge[2024] :green-badge[A] :green-badge[\\<b\\>T\\<\\/b\\>]")
    assert ":orange-badge[\\<i\\>V\\<\\/i\\>]" in md
    assert note_rows(paper) == [{"note": "<script>", "section": "S", "where": "f.md:2"}]


# ---- the lineage layout -----------------------------------------------------------------------------
def chain_family(order: list[int] | None = None) -> nx.DiGraph:
    """A small family: derived records point at their parents (child -> parent)."""
    nodes = {"a": "2020-01", "b": "2021-05", "c": "2022-01", "d": "2022-03", "e": "2022-09", "f": None}
    edges = [("b", "a", "extends"), ("c", "b", "finetuned_from"), ("d", "c", "resumed_from"),
             ("e", "b", "distilled_from"), ("f", "d", "variant_of")]
    g = nx.DiGraph()
    items = list(nodes.items())
    for i in order or range(len(items)):
        name, date = items[i]
        g.add_node(name, label=name.upper(), date=date, kind="paper")
    for u, v, rel in (edges if order is None else edges[::-1]):
        g.add_edge(u, v, relation=rel, evidence=f"{u} {rel} {v}", evidence_ref="l.md:1", provenance="curated:x")
    return g


def test_layout_runs_with_time_and_puts_undated_records_last():
    layout = layout_family(chain_family(), focus="c")
    slot = {n.id: n.slot for n in layout.nodes}
    assert slot["a"] < slot["b"] < slot["c"] < slot["d"], "a derived record comes after its parent"
    assert slot["e"] > slot["b"]
    assert slot["f"] == max(slot.values()) and next(n for n in layout.nodes if n.id == "f").band == UNDATED
    assert [b for b, _ in layout.bands] == ["2020", "2021", "2022", UNDATED]
    assert [n.id for n in layout.nodes if n.focus] == ["c"]


def test_layout_is_the_same_whatever_the_insertion_order():
    first = render_family_dot(layout_family(chain_family(), focus="c"))
    shuffled = list(range(6))
    random.Random(3).shuffle(shuffled)
    assert render_family_dot(layout_family(chain_family(shuffled), focus="c")) == first


def test_dot_pins_every_node_labels_edges_and_escapes():
    g = chain_family()
    g.nodes["a"]["label"] = XSS_TITLE
    dot = render_family_dot(layout_family(g), direction="LR")
    assert dot.count('!"') == g.number_of_nodes() + 4, "every node and band label is pinned"
    assert "<script>" not in dot and "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in dot
    assert '"d" -> "c" [label="resumed_from", tooltip="resumed_from: “d resumed_from c” (l.md:1) [curated:x]"' in dot
    assert 'URL="paper?paper=a"' in dot
    assert "splines=true" in dot


def test_direction_auto_switches_to_top_to_bottom_for_long_families():
    g = nx.DiGraph()
    for i in range(12):
        g.add_node(f"n{i}", date=f"{2010 + i}-01", label=f"N{i}")
        if i:
            g.add_edge(f"n{i}", f"n{i - 1}", relation="extends")
    layout = layout_family(g)
    assert layout.slots == 12 and layout.direction() == "TB" and layout.direction("LR") == "LR"
    positions = re.findall(r'"n(\d+)" \[.*?pos="([-\d.]+),([-\d.]+)!"', render_family_dot(layout))
    ys = [float(y) for _, _, y in sorted(positions, key=lambda p: int(p[0]))]
    assert ys == sorted(ys, reverse=True), "older records above newer ones"


def test_a_500_node_family_is_laid_out_fast_and_drawn_with_straight_edges():
    rng = random.Random(1)
    g = nx.DiGraph()
    for i in range(500):
        g.add_node(i, date=f"{2015 + i // 50}-{1 + i % 12:02d}", label=f"P{i}")
        for _ in range(1 + (i % 3 == 0)):
            if i:
                g.add_edge(i, rng.randrange(max(0, i - 40), i), relation="extends")
    started = time.perf_counter()
    dot = render_family_dot(layout_family(g))
    assert time.perf_counter() - started < 30, "a generous bound: the benchmark measures the real figure"
    assert "splines=line" in dot and g.number_of_nodes() > SPLINE_LIMIT
    assert dot.count("->") == g.number_of_edges()


# ---- timeline -----------------------------------------------------------------------------------------
def test_record_dates_and_eras_come_from_the_corpus(tmp_path):
    assert record_date(Paper(id="x", published="2021-12")) == pd.Timestamp("2021-12-01")
    assert record_date(Paper(id="x", published="2022")) == pd.Timestamp("2022-01-01")
    assert record_date(System(id="s", name="S", date="2022+")) == pd.Timestamp("2022-01-01")
    assert record_date(Paper(id="x")) is None
    corpus = Corpus.load(copy_default_data(tmp_path / "data"))
    assert [e.name for e in build_eras(corpus)] == ["VAE", "GAN", "Diffusion", "VAR"]
    frame, undated = timeline_frame(corpus)
    assert frame["date"].is_monotonic_increasing and len(frame) + len(undated) == len(corpus)
    era = dict(zip(frame["id"], frame["era"], strict=True))
    assert era["2112.10752"] == "Diffusion" and era["2404.02905"] == "VAR" and era["1312.6114"] == "VAE"
    assert not build_eras(Corpus([Paper(id="p", published="2020")]))
    assert timeline_frame(Corpus([Paper(id="p", published="2020")]))[0]["era"].tolist() == [BEFORE_ERAS]


# ---- first start --------------------------------------------------------------------------------------
def test_missing_parts_and_the_data_stamp(tmp_path):
    store = copy_default_data(tmp_path / "data")
    assert vbuild.missing_parts(store) == ["search index", "graph"]
    before = vbuild.data_stamp(store)
    assert vbuild.data_stamp(store) == before
    store.save_papers([*store.load_papers(), Paper(id="title:new", title="New")])
    assert vbuild.data_stamp(store) != before


def test_plan_build_steps_make_what_was_missing(tmp_path):
    from kg.pipeline import BuildPlan
    from testkit.encoders import FakeEncoder

    store = copy_default_data(tmp_path / "data")
    plan = BuildPlan(store, make_encoder=lambda name: FakeEncoder(name=name or "fake"))
    seen: list[str] = []
    plan.run(on_step=lambda i, n, label: seen.append(label.split()[0]))
    assert seen == ["Checking", "Reading", "Loading", "Embedding", "Exporting", "Building"]
    assert vbuild.missing_parts(store) == []


@pytest.mark.parametrize("content", ["{not json", '{"model": "m"}'])
def test_an_unreadable_manifest_counts_as_missing(tmp_path, content):
    store = Store.at(tmp_path)
    store.build_path("search").mkdir(parents=True)
    store.build_path("search", "manifest.json").write_text(content)
    assert "search index" in vbuild.missing_parts(store)


def test_kg_never_imports_streamlit():
    import subprocess
    import sys

    code = ("import sys, kg.cli, kgapp.build, kgapp.escape, kgapp.family, kgapp.records, "
            "kgapp.related, kgapp.timeline, kg.commands.serve; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
