"""Edges in DuckDB over Parquet: neighbours, lineage and paths agree with networkx on the same edges."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.errors import NotFoundError
from kg.model import Edge, Paper
from kg.scale.graph_sql import GraphDB, build_graph_db
from kg.scale.parquet import edges_table, papers_table, write_parts


def random_corpus(folder: Path, n: int = 400, cites: int = 3, seed: int = 7) -> tuple[list[Paper], list[Edge]]:
    rng = np.random.default_rng(seed)
    papers = [Paper(id=f"2301.{i:05d}", title=f"Paper {i}", published=f"{2015 + i % 9}-01-01") for i in range(n)]
    edges = {(f"2301.{i:05d}", f"2301.{j:05d}", "cites") for i in range(1, n)
             for j in rng.integers(0, i, size=min(i, cites))}
    edges |= {(f"2301.{i:05d}", f"2301.{int(rng.integers(0, i)):05d}", "lineage") for i in range(1, n, 4)}
    out = [Edge(s, t, k, "synthetic", relation="builds_on" if k == "lineage" else None)
           for s, t, k in sorted(edges) if s != t]
    write_parts(folder / "papers", papers_table(papers), rows_per_part=150)
    write_parts(folder / "edges", edges_table(out), rows_per_part=500)
    return papers, out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Edge]]:
    folder = tmp_path_factory.mktemp("pq")
    _, edges = random_corpus(folder)
    build_graph_db(folder, folder / "graph.duckdb")
    return folder, edges


def test_neighbors_lineage_and_paths_match_networkx(corpus: tuple[Path, list[Edge]]):
    folder, edges = corpus
    g = nx.MultiDiGraph()
    g.add_edges_from((e.source, e.target, {"kind": e.kind}) for e in edges)
    lineage = nx.DiGraph([(e.source, e.target) for e in edges if e.kind == "lineage"])
    undirected = nx.Graph([(e.source, e.target) for e in edges])
    with GraphDB(folder / "graph.duckdb") as db:
        for node in ("2301.00000", "2301.00101", "2301.00399"):
            got = sorted((n.id, n.kind, n.direction) for n in db.neighbors(node))
            want = sorted([(v, d["kind"], "out") for _, v, d in g.out_edges(node, data=True)]
                          + [(u, d["kind"], "in") for u, d in ((u, d) for u, _, d in g.in_edges(node, data=True))])
            assert got == want
        for node in ("2301.00397", "2301.00201"):
            if node in lineage:
                up = dict(nx.single_source_shortest_path_length(lineage, node))
                assert dict(db.lineage(node, up=True)) == {k: v for k, v in up.items() if k != node}
                down = dict(nx.single_source_shortest_path_length(lineage.reverse(), node))
                assert dict(db.lineage(node, up=False)) == {k: v for k, v in down.items() if k != node}
        for a, b in (("2301.00399", "2301.00003"), ("2301.00250", "2301.00251"), ("2301.00010", "2301.00390")):
            hops = db.find_path(a, b)
            assert len(hops) == nx.shortest_path_length(undirected, a, b)
            chain = [a] + [h.target if h.source in (a, *[x.target for x in hops]) else h.source for h in hops]
            assert {hops[0].source, hops[0].target} >= {a} and b in (hops[-1].source, hops[-1].target)
            assert len(chain) == len(hops) + 1


def test_names_and_missing_paths_are_errors(corpus: tuple[Path, list[Edge]]):
    folder, _ = corpus
    with GraphDB(folder / "graph.duckdb") as db:
        assert db.nid("paper 7") == db.nid("2301.00007")  # an exact title, case ignored
        with pytest.raises(NotFoundError):
            db.nid("2399.99999")
        with pytest.raises(NotFoundError):
            db.find_path("2301.00000", "2301.00399", via=("lineage",), max_hops=1)


def test_cli_builds_the_database_and_answers(corpus: tuple[Path, list[Edge]], tmp_path: Path):
    folder, _ = corpus
    runner = CliRunner()
    res = runner.invoke(cli, ["parquet", "graph", str(folder), "--db", str(tmp_path / "g.duckdb")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["parquet", "path", str(tmp_path / "g.duckdb"), "2301.00399", "2301.00003"])
    assert res.exit_code == 0 and "2301.00399" in res.output and "cites" in res.output, res.output
    res = runner.invoke(cli, ["parquet", "neighbors", str(tmp_path / "g.duckdb"), "2301.00005", "--json"])
    assert res.exit_code == 0 and '"direction"' in res.output
    res = runner.invoke(cli, ["parquet", "lineage", str(tmp_path / "g.duckdb"), "2399.00001"])
    assert res.exit_code != 0 and "2399.00001" in res.output and "Traceback" not in res.output
