"""`kg lineage`, `kg path`, `kg neighbors` and `kg graph build|export`: thin wrappers over kg.graph.build."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import networkx as nx

from kg.commands.render import plain
from kg.commands.scale import echo_sql_lineage, echo_sql_neighbors, echo_sql_path
from kg.corpus import Corpus
from kg.graph.build import BuildReport, load_graph, open_graph, render_graphml, render_node_link
from kg.graph.query import (
    EDGE_KINDS,
    GraphPath,
    Neighbor,
    TreeNode,
    find_path,
    lineage_ids,
    lineage_tree,
    neighbors,
    resolve_node,
)
from kg.store import Store, write_output

if TYPE_CHECKING:
    from kg.scale.graph_sql import GraphDB


def _load(store: Store) -> tuple[nx.MultiDiGraph[str], Corpus]:
    corpus = Corpus.require(store)
    return load_graph(store), corpus


def _open(store: Store) -> tuple[nx.MultiDiGraph[str], Corpus] | GraphDB:
    """The networkx graph with the corpus, or the DuckDB graph of a build above the threshold (where
    names resolve by id, title or short name in the graph itself: reading a million records would not
    pay for one query)."""
    if not store.papers_path.exists():
        Corpus.require(store)  # the error saying how to make one
    graph = open_graph(store)
    if isinstance(graph, nx.MultiDiGraph):
        return graph, Corpus.require(store)
    return graph


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _kinds(value: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in value.split(",") if k.strip())


def render_node(info: dict[str, Any]) -> str:
    year = f" ({info['year']})" if info.get("year") else ""
    return f"{info['label']}{year} [{info['id']}]"


def _support(edge: dict[str, Any]) -> str:
    support = edge.get("support")
    return f" [{support}]" if support and support != "stated" else ""


# ---- lineage -----------------------------------------------------------------------------------
def render_tree(root: TreeNode, up: bool, evidence: bool) -> list[str]:
    """The tree as text lines: `relation → parent` going up, `child — relation` going down."""
    lines = [render_node(asdict(root))]

    def walk(node: TreeNode, prefix: str) -> None:
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            who = render_node(asdict(child)) + (" (shown above)" if child.repeated else "")
            rel = f"{child.relation}{_support(child.edge)}"
            branch = "└── " if last else "├── "
            lines.append(prefix + branch + (f"{rel} → {who}" if up else f"{who} — {rel}"))
            inner = prefix + ("    " if last else "│   ")
            if evidence and child.edge.get("evidence"):
                quote = plain(child.edge["evidence"])
                lines.append(f"{inner}  “{quote}” ({child.edge.get('evidence_ref', '')})")
            walk(child, inner)

    walk(root, "")
    return lines


@click.command("lineage")
@click.argument("name")
@click.option("--up", "direction", flag_value="up", help="Only ancestors (what it derives from).")
@click.option("--down", "direction", flag_value="down", help="Only descendants (what derives from it).")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="Generations to follow (default: all).")
@click.option("--evidence", is_flag=True, help="Print each link's evidence and where it stands.")
@click.option("--json", "as_json", is_flag=True, help="Output the trees as JSON.")
@click.pass_obj
def lineage_command(store: Store, name: str, direction: str | None, depth: int | None, evidence: bool,
                    as_json: bool) -> None:
    """Lineage of a paper or system: a tree of ancestors and/or descendants with relations and years.

    Example: kg lineage SDXL --up
    """
    opened = _open(store)
    directions = [direction] if direction else ["up", "down"]
    if not isinstance(opened, tuple):
        with opened:
            echo_sql_lineage(opened, name, directions, depth, as_json)
        return
    graph, corpus = opened
    node = resolve_node(graph, corpus, name)
    trees = {d: lineage_tree(graph, node, d, depth) for d in directions}  # type: ignore[arg-type]
    if as_json:
        _echo_json({"id": node, **{d: t.to_dict() for d, t in trees.items()}})
        return
    for d, tree in trees.items():
        title = "Ancestors (derives from)" if d == "up" else "Descendants (derive from it)"
        click.echo(f"{title}:")
        if not tree.children:
            click.echo(f"  {render_node(asdict(tree))}: none that the lists state")
            continue
        for line in render_tree(tree, d == "up", evidence):
            click.echo("  " + line)


# ---- path ----------------------------------------------------------------------------------------
def render_path(path: GraphPath) -> list[str]:
    """Each hop with the relation in its true direction, its evidence, where that stands, and the source."""
    nodes = path.nodes
    how = {"descends": "a line of descent", "ascends": "a line of ancestry",
           "mixed": "not one line of descent"}
    lines = [f"{render_node(nodes[path.start])} → {render_node(nodes[path.end])}: "
             f"{len(path.hops)} hop(s) over {', '.join(path.via)} ({how[path.direction]})"]
    for n, hop in enumerate(path.hops, 1):
        what = hop.relation or hop.kind
        lines.append(f"{n}. {render_node(nodes[hop.source])} {what} {render_node(nodes[hop.target])}")
        if hop.evidence:
            lines.append(f"   “{plain(hop.evidence)}”")
        where = [f"evidence: {hop.evidence_ref}" if hop.evidence_ref else "evidence: none recorded",
                 f"source: {hop.provenance}"]
        if hop.support:
            where.append(f"support: {hop.support}")
        lines.append("   " + " · ".join(where))
    return lines


@click.command("path")
@click.argument("start")
@click.argument("end")
@click.option("--via", default="lineage,described_in", show_default=True,
              help=f"Edge kinds to walk, comma-separated: {', '.join(EDGE_KINDS)}.")
@click.option("--json", "as_json", is_flag=True, help="Output the path as JSON.")
@click.pass_obj
def path_command(store: Store, start: str, end: str, via: str, as_json: bool) -> None:
    """How one record leads to another: each hop with its relation, evidence and source.

    Example: kg path DDPM SDXL-Turbo
    """
    opened = _open(store)
    if not isinstance(opened, tuple):
        with opened:
            echo_sql_path(opened, start, end, _kinds(via), as_json)
        return
    graph, corpus = opened
    path = find_path(graph, resolve_node(graph, corpus, start), resolve_node(graph, corpus, end), _kinds(via))
    if as_json:
        _echo_json(path.to_dict())
        return
    for line in render_path(path):
        click.echo(line)


# ---- neighbours ------------------------------------------------------------------------------------
_ARROWS = {"out": "→", "in": "←"}


def render_neighbors(center: dict[str, Any], rows: list[Neighbor]) -> list[str]:
    lines = [f"{render_node(center)}: {len(rows)} edge(s)"]
    group = None
    for row in rows:
        if (row.kind, row.direction) != group:
            group = (row.kind, row.direction)
            lines.append(f"{row.kind} {_ARROWS[row.direction]}")
        extra = f"  {row.relation}{_support(asdict(row))}" if row.relation else ""
        extra += f"  score {row.score:.3f}" if row.score is not None else ""
        lines.append(f"  {render_node(asdict(row))}{extra}")
        if row.evidence and row.kind in ("lineage", "mentions"):
            lines.append(f"      “{row.evidence}” ({row.evidence_ref})")
    return lines


@click.command("neighbors")
@click.argument("name")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(EDGE_KINDS),
              help="Only edges of this kind (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Output the neighbours as JSON.")
@click.pass_obj
def neighbors_command(store: Store, name: str, kinds: tuple[str, ...], as_json: bool) -> None:
    """The records, authors and topics joined to a record, grouped by edge kind and direction.

    Example: kg neighbors LDM --kind lineage --kind mentions
    """
    opened = _open(store)
    if not isinstance(opened, tuple):
        with opened:
            echo_sql_neighbors(opened, name, kinds, as_json)
        return
    graph, corpus = opened
    node = resolve_node(graph, corpus, name)
    rows = neighbors(graph, node, kinds or None)
    if as_json:
        _echo_json({"id": node, "neighbors": [asdict(r) for r in rows]})
        return
    center = {"id": node, **graph.nodes[node]}
    for line in render_neighbors(center, rows):
        click.echo(line)


# ---- graph build / export ----------------------------------------------------------------------------
@click.group("graph")
def graph_group() -> None:
    """Build the knowledge graph and export it (GraphML, node-link JSON).

    Example: kg graph build && kg graph export --format graphml --out kg.graphml
    """


@graph_group.command("build")
@click.option("--json", "as_json", is_flag=True, help="Output the build report as JSON.")
@click.pass_obj
def build_command(store: Store, as_json: bool) -> None:
    """Build the graph from the corpus and data/lineage.csv and save it under data/build/.

    Example: kg graph build
    """
    from kg.pipeline import build_all  # loads the search index's modules: only here

    result = build_all(store, on_wait=lambda msg: click.echo(msg, err=True))
    if as_json:
        _echo_json(graph_report_data(result.report))
        return
    echo_graph_report(result.graph, result.report)


def graph_report_data(report: BuildReport) -> dict[str, Any]:
    return {"nodes": report.nodes, "edges": report.edges, "seconds": round(report.seconds, 3),
            "unresolved_rows": [r.row for r in report.unresolved], "extracted_dropped": len(report.dropped)}


def echo_graph_report(graph: nx.MultiDiGraph[str] | None, report: BuildReport) -> None:
    where = "" if graph is not None else " (in DuckDB: the corpus is above the networkx threshold)"
    click.echo(f"built graph in {report.seconds:.2f} s: {sum(report.nodes.values())} nodes, "
               f"{sum(report.edges.values())} edges{where}")
    click.echo("  nodes: " + ", ".join(f"{k} {v}" for k, v in sorted(report.nodes.items())))
    click.echo("  edges: " + ", ".join(f"{k} {v}" for k, v in sorted(report.edges.items())))
    dup = sum(why == "duplicates" for _, why in report.dropped)
    click.echo(f"  extracted lineage dropped: {dup} confirm lineage.csv, {len(report.dropped) - dup} "
               "contradict it or close a cycle")
    for row in report.unresolved:
        click.echo(f"  warning: lineage.csv:{row.row}: {row.child} -> {row.parent} names a record "
                   "the corpus lacks", err=True)


@graph_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["graphml", "json"]), default="graphml", show_default=True,
              help="graphml (Gephi, Cytoscape, yEd) or json (node-link).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--lineage", "family", default=None, help="Only this record's lineage family.")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="Generations for --lineage (default: all).")
@click.pass_obj
def export_command(store: Store, fmt: str, out: Path | None, family: str | None, depth: int | None) -> None:
    """Export the graph, or one record's lineage family, as GraphML or node-link JSON.

    Example: kg graph export --format graphml --lineage SDXL --out sdxl.graphml
    """
    graph, corpus = _load(store)
    if family:
        graph = graph.subgraph(lineage_ids(graph, resolve_node(graph, corpus, family), depth)).copy()
    text = render_graphml(graph) if fmt == "graphml" else render_node_link(graph)
    if out is None or str(out) == "-":
        click.echo(text, nl=False)
        return
    write_output(out, text)
    click.echo(f"wrote {graph.number_of_nodes()} nodes and {graph.number_of_edges()} edges to {out}",
               err=True)


commands = [lineage_command, path_command, neighbors_command, graph_group]
