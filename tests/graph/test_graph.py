"""The graph: typed nodes, edges with provenance, lineage queries, paths, centrality, persistence."""

from __future__ import annotations

import io
import json

import networkx as nx
import pytest

from kg.corpus import Corpus
from kg.errors import BadInputError, NotFoundError, StaleIndexError
from kg.graph.build import (
    BuildReport,
    build_from_store,
    build_graph,
    centrality,
    graphml_safe,
    load_graph,
    render_graphml,
    render_node_link,
    save_graph,
)
from kg.graph.query import (
    NoPathError,
    find_path,
    lineage_family,
    lineage_ids,
    lineage_tree,
    neighbors,
    record_context,
    resolve_node,
)
from kg.ingest.mentions import GENERIC_NAMES
from kg.lineage import LineageRow
from kg.model import Edge, Mention, Paper, System
from kg.store import Store
from kg.text import compact_key

SD_LINES = {"system:sd-v1-2-1-4", "system:sd-v1-5", "system:sd-2-base", "system:sd-2", "system:sd-2-1",
            "system:sd-2-1-unclip"}
LDM, SDXL, DDPM, TURBO = "2112.10752", "2307.01952", "2006.11239", "system:sdxl-turbo"


def edges_of(graph: nx.MultiDiGraph, kind: str) -> list[tuple[str, str, dict]]:
    return [(u, v, d) for u, v, d in graph.edges(data=True) if d["kind"] == kind]


def test_nodes_and_edges_are_typed(fixture_graph):
    kinds = {k for _, k in fixture_graph.nodes(data="kind")}
    assert kinds == {"paper", "system", "author", "topic"}
    edge_kinds = {k for _, _, k in fixture_graph.edges(data="kind")}
    assert edge_kinds == {"lineage", "mentions", "authored_by", "listed_under", "described_in"}
    assert fixture_graph.nodes[LDM]["year"] == 2021 and fixture_graph.nodes[LDM]["label"] == "LDM"
    assert fixture_graph.has_edge(LDM, "author:robin-rombach")
    assert fixture_graph.has_edge(TURBO, "2311.17042", "described_in")


@pytest.mark.parametrize("which", ["fixture", "default"])
def test_every_edge_has_a_source_and_every_lineage_edge_its_evidence(which, fixture_graph, default_build):
    graph = fixture_graph if which == "fixture" else default_build[0]
    assert all(d.get("provenance") for _, _, d in graph.edges(data=True))
    lineage = edges_of(graph, "lineage")
    assert len(lineage) >= 29
    for u, v, d in lineage:
        assert d["relation"] and d["evidence"] and d["evidence_ref"] and d["support"], (u, v)
        assert d["provenance"].startswith(("curated:lineage.csv:", "extracted:"))


def test_on_the_default_corpus_every_curated_row_becomes_an_edge(default_build, lineage_rows):
    graph, report = default_build
    assert report.unresolved == []
    assert all(graph.has_edge(r.child, r.parent, "lineage") for r in lineage_rows)
    assert {why for _, why in report.dropped} <= {"duplicates"}


def test_a_curated_row_naming_a_missing_record_is_skipped_and_reported(fixture_corpus, lineage_rows):
    stray = LineageRow("2999.99999", LDM, "extends", "stated", "x", "reading-lists/a.md:1", row=99)
    report = BuildReport()
    graph = build_graph(fixture_corpus, [*lineage_rows, stray], report=report)
    assert report.unresolved == [stray] and "2999.99999" not in graph


def test_stored_cites_and_supplied_similar_edges_are_used_with_their_sources(fixture_corpus, lineage_rows):
    fixture_corpus.edges = [
        Edge(SDXL, LDM, "cites", "semantic_scholar:2026-01-01"),
        Edge(SDXL, DDPM, "cites", ""),  # no source: no edge
        Edge(SDXL, "2999.99999", "cites", "semantic_scholar:2026-01-01"),  # outside the corpus
        Edge(SDXL, DDPM, "lineage", "somewhere", relation="extends"),  # lineage only from curation
    ]
    similar = [Edge(LDM, SDXL, "similar_to", "index:all-MiniLM-L6-v2", score=0.82)]
    graph = build_graph(fixture_corpus, lineage_rows, similar)
    assert [(u, v, d["provenance"]) for u, v, d in edges_of(graph, "cites")] == [
        (SDXL, LDM, "semantic_scholar:2026-01-01")]
    assert [(u, v, d["score"]) for u, v, d in edges_of(graph, "similar_to")] == [(LDM, SDXL, 0.82)]
    assert not graph.has_edge(SDXL, DDPM)


def test_mentions_come_from_ingestion_and_from_notes():
    ldm = Paper(id=LDM, title="High-Resolution Image Synthesis with Latent Diffusion Models", aliases=["LDM"],
                mentions=[Mention("reading-lists/a.md", 3, "LDM", "LiteVAE is for LDMs.", by="2405.14477"),
                          Mention("reading-lists/a.md", 9, "LDM", "The list's own prose.", by=None)])
    lite = Paper(id="2405.14477", title="LiteVAE", aliases=["LiteVAE"])
    graph = build_graph(Corpus([ldm, lite]))
    assert [(u, v, d["provenance"], d["evidence"]) for u, v, d in edges_of(graph, "mentions")] == [
        ("2405.14477", LDM, "list:reading-lists/a.md:3", "LiteVAE is for LDMs.")]


def test_mentions_by_a_generic_alias_make_no_edge():
    """"leverages stochastic differential equations (SDEs)" names no paper, though Score SDE carries
    "SDE" as an alias; "GAN-based methods" is no evidence of Goodfellow et al."""
    sde = Paper(id="2011.13456", title="Score-Based Generative Modeling through Stochastic Differential "
                "Equations", aliases=["SDE"],
                mentions=[Mention("reading-lists/a.md", 5, "SDE", "It leverages SDEs.", by="2108.01073")])
    gan = Paper(id="1406.2661", title="Generative Adversarial Networks", aliases=["GAN"],
                mentions=[Mention("reading-lists/a.md", 5, "GAN", "Unlike GAN-based methods.", by="2108.01073"),
                          Mention("reading-lists/a.md", 7, "Generative Adversarial Networks",
                                  "Diffusion-GAN trains Generative Adversarial Networks.", by="2206.02262")])
    sdedit = Paper(id="2108.01073", title="SDEdit", aliases=["SDEdit"])
    dgan = Paper(id="2206.02262", title="Diffusion-GAN", aliases=["Diffusion-GAN"])
    graph = build_graph(Corpus([sde, gan, sdedit, dgan]))
    assert [(u, v) for u, v, _ in edges_of(graph, "mentions")] == [("2206.02262", "1406.2661")]


def test_default_corpus_has_no_mention_edge_by_a_generic_alias(default_build):
    graph, _ = default_build
    aliases = [d.get("alias") for _, _, d in edges_of(graph, "mentions")]
    assert aliases and not [a for a in aliases if a and compact_key(a) in GENERIC_NAMES]
    assert not graph.has_edge("2108.01073", "2011.13456")  # SDEdit's "SDEs" is not Score SDE


def test_lineage_up_reaches_ldm_and_down_lists_the_families(fixture_graph):
    up = {n.id for n in lineage_tree(fixture_graph, SDXL, "up").walk()}
    assert LDM in up and {DDPM, "2012.09841"} <= up
    down = lineage_tree(fixture_graph, LDM, "down")
    assert {n.id for n in down.walk()} >= SD_LINES | {SDXL, TURBO, "2402.13929", "2403.03206"}
    first = {c.id: c for c in down.children}
    assert first["system:sd-v1-2-1-4"].relation == "instance_of" and first[SDXL].year == 2023
    assert first[SDXL].edge["evidence_ref"].endswith("stable-diffusion-family-and-identity-preservation.md:31")


def test_a_node_with_two_parents_is_shown_once_then_marked(fixture_graph):
    tree = lineage_tree(fixture_graph, SDXL, "up")
    ddpm = [n for n in tree.walk() if n.id == DDPM]
    assert len(ddpm) == 2 and sorted(n.repeated for n in ddpm) == [False, True]
    assert all(not n.children for n in ddpm if n.repeated)


def test_depth_limits_the_generations(fixture_graph):
    tree = lineage_tree(fixture_graph, LDM, "down", depth=1)
    assert all(not c.children for c in tree.children)
    assert lineage_ids(fixture_graph, TURBO, depth=1, direction="up") == {TURBO, SDXL}
    assert lineage_ids(fixture_graph, SDXL, direction="both") >= {LDM, TURBO, DDPM}
    with pytest.raises(BadInputError):
        lineage_tree(fixture_graph, LDM, "sideways")  # type: ignore[arg-type]


def test_the_family_subgraph_has_dates_relations_and_evidence_for_drawing(fixture_graph):
    family = lineage_family(fixture_graph, SDXL, depth=2)
    assert family.graph["root"] == SDXL
    assert set(family) == {SDXL, LDM, TURBO, "2402.13929", DDPM, "2010.02502", "2012.09841"}
    assert family.nodes[LDM]["generation"] == -1 and family.nodes[TURBO]["generation"] == 1
    assert family.nodes[TURBO]["date"] == "2023-11" and family.nodes[DDPM]["year"] == 2020
    edge = family.edges[TURBO, SDXL]
    assert edge["relation"] == "distilled_from" and edge["support"] == "named" and edge["evidence"]
    assert family.edges["2010.02502", DDPM]["relation"] == "extends"  # every lineage edge among members
    assert family.number_of_edges() == 7


def test_path_from_ddpm_to_sdxl_turbo_has_evidence_and_a_source_at_every_hop(default_build):
    graph, _ = default_build
    path = find_path(graph, DDPM, TURBO)
    assert path.direction == "descends" and [h.start for h in path.hops][0] == DDPM
    assert [h.end for h in path.hops][-1] == TURBO
    for hop in path.hops:
        assert hop.kind == "lineage" and hop.relation and hop.evidence and hop.evidence_ref and hop.provenance


def test_paths_go_up_or_across_when_they_must(fixture_graph):
    assert find_path(fixture_graph, TURBO, DDPM).direction == "ascends"
    across = find_path(fixture_graph, "2402.13929", TURBO)
    assert across.direction == "mixed" and [h.end for h in across.hops] == [SDXL, TURBO]
    to_paper = find_path(fixture_graph, DDPM, "2311.17042")
    assert to_paper.hops[-1].kind == "described_in"
    with pytest.raises(NoPathError, match="no path between"):
        find_path(fixture_graph, DDPM, "2404.02905")
    with pytest.raises(BadInputError, match="unknown edge kind"):
        find_path(fixture_graph, DDPM, LDM, ("lineage", "friendship"))


def test_paths_prefer_stated_links(fixture_graph):
    # LDM -> DDPM is stated; so is LDM -> DDIM -> DDPM, which is longer.
    assert [h.target for h in find_path(fixture_graph, SDXL, DDPM).hops] == [LDM, DDPM]


def test_neighbours_by_kind_and_direction(fixture_graph):
    rows = neighbors(fixture_graph, LDM, ("lineage",))
    assert {(r.id, r.direction) for r in rows} >= {(DDPM, "out"), (SDXL, "in"), ("system:sd-v1-2-1-4", "in")}
    assert all(r.kind == "lineage" and r.evidence for r in rows)
    authors = [r.label for r in neighbors(fixture_graph, LDM, ("authored_by",))]
    assert authors[0] == "Robin Rombach" and len(authors) == 5
    with pytest.raises(BadInputError):
        neighbors(fixture_graph, LDM, ("nope",))


def test_names_resolve_to_nodes_or_say_what_is_close(fixture_graph, fixture_corpus):
    assert resolve_node(fixture_graph, fixture_corpus, "SDXL-Turbo") == TURBO
    assert resolve_node(fixture_graph, fixture_corpus, "author:robin-rombach") == "author:robin-rombach"
    assert resolve_node(fixture_graph, fixture_corpus, "Robin Rombach") == "author:robin-rombach"
    assert resolve_node(fixture_graph, fixture_corpus, "series of stable diffusion models") == (
        "topic:Image Generation > Series of Stable Diffusion Models")
    with pytest.raises(NotFoundError, match="no paper or system matches 'SDXLL'; closest: .*SDXL"):
        resolve_node(fixture_graph, fixture_corpus, "SDXLL")


def test_centrality_is_pagerank_over_cites_and_lineage(fixture_graph):
    rank = centrality(fixture_graph)
    assert set(rank) == {n for n, k in fixture_graph.nodes(data="kind") if k in ("paper", "system")}
    assert sum(rank.values()) == pytest.approx(1.0)
    assert rank[DDPM] > rank[LDM] > rank[SDXL] > rank[TURBO]
    flow = nx.DiGraph()
    flow.add_nodes_from(rank)
    flow.add_edges_from((u, v) for u, v, _ in edges_of(fixture_graph, "lineage"))
    expected = nx.pagerank(flow, tol=1e-12)
    assert all(rank[n] == pytest.approx(expected[n], abs=1e-8) for n in rank)
    assert fixture_graph.nodes[LDM]["pagerank"] == pytest.approx(rank[LDM])


def test_graphml_loads_back_with_the_same_nodes_and_edges(fixture_graph):
    text = render_graphml(fixture_graph)
    back = nx.read_graphml(io.BytesIO(text.encode("utf-8")))
    assert back.number_of_nodes() == fixture_graph.number_of_nodes()
    assert back.number_of_edges() == fixture_graph.number_of_edges()
    assert json.loads(back.nodes[LDM]["aliases"])[0] == "LDM"  # lists travel as JSON text
    assert back.nodes[LDM]["year"] == 2021
    safe = graphml_safe(fixture_graph)
    values = [v for _, d in safe.nodes(data=True) for v in d.values()]
    values += [v for _, _, d in safe.edges(data=True) for v in d.values()]
    assert all(isinstance(v, str | int | float | bool) for v in values)


def test_node_link_json_loads_back(fixture_graph):
    data = json.loads(render_node_link(fixture_graph))
    back = nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")
    assert nx.utils.graphs_equal(back, fixture_graph)


def test_the_built_graph_is_saved_and_goes_stale_with_its_inputs(data_copy):
    store = Store.at(data_copy)
    with pytest.raises(StaleIndexError, match="run `kg build`"):
        load_graph(store)
    graph = build_from_store(store)
    save_graph(store, graph)
    assert nx.utils.graphs_equal(load_graph(store), graph)
    with open(store.lineage_path, "a", encoding="utf-8") as fh:
        fh.write("\n")
    with pytest.raises(StaleIndexError, match="older than the corpus"):  # never a lesser graph on the spot
        load_graph(store)


def test_a_saved_graph_that_is_not_a_directed_multigraph_is_damaged(data_copy):
    store = Store.at(data_copy)
    save_graph(store, build_from_store(store))
    path = store.build_path("graph.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    data["graph"]["directed"] = False  # node_link_graph follows the file's own flags
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StaleIndexError, match="not a directed multigraph"):
        load_graph(store)


def test_a_system_without_paper_or_notes_is_a_lone_node():
    graph = build_graph(Corpus([], [System(id="system:flux-1", name="FLUX.1")]))
    assert list(graph.nodes) == ["system:flux-1"] and graph.number_of_edges() == 0
    assert centrality(graph) == {"system:flux-1": 1.0}


def test_record_context_gives_rank_parents_and_children_for_kg_show(fixture_graph):
    context = record_context(fixture_graph, SDXL)
    assert context["records"] == 115 and 1 <= context["rank"] <= 115
    assert context["pagerank"] == pytest.approx(fixture_graph.nodes[SDXL]["pagerank"])
    assert [(p["id"], p["relation"]) for p in context["parents"]] == [(LDM, "extends")]
    assert {c["id"] for c in context["children"]} == {TURBO, "2402.13929"}
    assert all(c["evidence"] and c["evidence_ref"] for c in context["children"])
