"""`kg build` above the networkx threshold: the same graph as DuckDB tables, and the queries on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.errors import AmbiguousError
from kg.graph.build import GRAPH_DB_FILE, GRAPH_FILE, GraphInDuckDBError, load_graph, open_graph
from kg.graph.table import GraphTable
from kg.pipeline import BuildPlan
from kg.scale.graph_sql import GraphDB
from kg.store import Store, read_json
from testkit.encoders import FakeEncoder
from tests.conftest import DATA


def build(root: Path, sql_above: int) -> nx.MultiDiGraph | None:
    plan = BuildPlan(Store.at(root), make_encoder=lambda name: FakeEncoder(name=name or "fake"),
                     graph_sql_above=sql_above)
    return plan.run().graph


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[nx.MultiDiGraph, Path]:
    """The default corpus built twice: in networkx, and with a threshold of 10 records (DuckDB)."""
    roots = []
    for name in ("nx", "sql"):
        root = tmp_path_factory.mktemp(name) / "data"
        root.mkdir()
        for sub in ("reading-lists", "facts", "corpus"):
            shutil.copytree(DATA / sub, root / sub)
        for f in ("systems.csv", "lineage.csv"):
            shutil.copy(DATA / f, root / f)
        roots.append(root)
    graph = build(roots[0], sql_above=100_000)
    assert graph is not None and build(roots[1], sql_above=10) is None
    return graph, roots[1]


def kg(root: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(root), *args])


def test_the_tables_hold_the_networkx_graph(both):
    graph, root = both
    store = Store.at(root)
    stub = read_json(store.build_path(GRAPH_FILE))
    assert stub["backend"] == "duckdb" and "graph" not in stub
    with GraphDB(store.build_path(GRAPH_DB_FILE)) as db:
        nodes = db.con.execute("SELECT id, kind, label, year, pagerank FROM nodes").fetchall()
        edges = db.con.execute("""SELECT s.id, t.id, e.key, e.kind, e.provenance, e.relation, e.evidence_ref, e.score
            FROM out_edges e JOIN nodes s ON s.nid = e.src JOIN nodes t ON t.nid = e.dst""").fetchall()
        ins = db.con.execute("SELECT count(*) FROM in_edges").fetchone()
    assert {(n, k) for n, k, *_ in nodes} == {(n, a["kind"]) for n, a in graph.nodes(data=True)}
    assert {n: (lab, y) for n, _, lab, y, _ in nodes} == {
        n: (a.get("label"), a.get("year")) for n, a in graph.nodes(data=True)}
    ranks = {n: r for n, *_, r in nodes if r is not None}
    want = {n: a["pagerank"] for n, a in graph.nodes(data=True) if "pagerank" in a}
    assert ranks.keys() == want.keys() and all(ranks[n] == pytest.approx(want[n], rel=1e-9) for n in want)
    got = sorted((s, t, k, kind, p, r, ref, sc) for s, t, k, kind, p, r, ref, sc in edges)
    expected = sorted((u, v, k, a["kind"], a["provenance"], a.get("relation"), a.get("evidence_ref"),
                       a.get("score")) for u, v, k, a in graph.edges(keys=True, data=True))
    assert got == expected and ins == (len(expected),)
    assert len(expected) > 1000


def test_neighbors_path_and_lineage_answer_from_duckdb(both):
    graph, root = both
    res = kg(root, "neighbors", "2112.10752", "--json")
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    want = {(v, a["kind"], "out") for _, v, a in graph.out_edges("2112.10752", data=True)}
    want |= {(u, a["kind"], "in") for u, _, a in graph.in_edges("2112.10752", data=True)}
    assert {(r["id"], r["kind"], r["direction"]) for r in rows} == want
    up = kg(root, "lineage", "2307.01952", "--up", "--json")
    assert up.exit_code == 0, up.output
    ancestors = {r["id"] for r in json.loads(up.output)["up"]}
    lineage = nx.DiGraph([(u, v) for u, v, a in graph.edges(data=True) if a["kind"] == "lineage"])
    assert ancestors == nx.descendants(lineage, "2307.01952") and "2112.10752" in ancestors
    path = kg(root, "path", "system:sdxl-turbo", "2112.10752")
    assert path.exit_code == 0, path.output
    assert path.output.splitlines()[0].startswith("system:sdxl-turbo -[")
    assert "2112.10752" in path.output.splitlines()[-1]
    by_label = kg(root, "neighbors", "LDM", "--kind", "lineage")
    assert by_label.exit_code == 0 and "2307.01952" in by_label.output


def test_views_that_need_networkx_say_so(both):
    _, root = both
    with pytest.raises(GraphInDuckDBError, match="DuckDB"):
        load_graph(Store.at(root))
    shown = kg(root, "show", "LDM")
    assert shown.exit_code == 0 and "2112.10752" in shown.output
    export = kg(root, "graph", "export")
    assert export.exit_code != 0 and "DuckDB" in export.output and "Traceback" not in export.output
    db = open_graph(Store.at(root))
    assert isinstance(db, GraphDB)
    db.close()


def test_a_rebuild_below_the_threshold_leaves_no_duckdb_graph(both, tmp_path):
    _, root = both
    copy = tmp_path / "data"
    shutil.copytree(root, copy)
    assert build(copy, sql_above=100_000) is not None
    store = Store.at(copy)
    assert not store.build_path(GRAPH_DB_FILE).exists()
    assert isinstance(load_graph(store), nx.MultiDiGraph)


def test_a_repeated_edge_keeps_the_first_and_a_shared_short_name_is_ambiguous(tmp_path):
    table = GraphTable(tmp_path / "g.duckdb")
    for node, label in (("a", "SD"), ("b", "SD"), ("c", "LDM")):
        table.add_node(node, kind="paper", label=label, title=f"Paper {node}")
    table.add_edge("a", "c", "lineage", kind="lineage", provenance="p1", relation="extends")
    table.add_edge("a", "c", "lineage", kind="lineage", provenance="p2", relation="finetuned_from")
    table.add_edge("b", "c", "cites", kind="cites", provenance="p3")
    nodes, edges = table.seal()
    assert nodes == {"paper": 3} and edges == {"cites": 1, "lineage": 1}
    assert not list(tmp_path.glob(".g.duckdb.tmp*"))
    with GraphDB(tmp_path / "g.duckdb") as db:
        assert [(n.id, n.relation) for n in db.neighbors("a")] == [("c", "extends")]
        assert db.lineage("a") == [("c", 1)]
        assert db.nid("ldm") == db.nid("c")
        with pytest.raises(AmbiguousError, match="'SD' is ambiguous: a, b"):
            db.nid("SD")
        ranks = dict(db.con.execute("SELECT id, pagerank FROM nodes").fetchall())
    assert sum(ranks.values()) == pytest.approx(1.0) and ranks["c"] > ranks["a"] == ranks["b"]
