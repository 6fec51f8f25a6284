"""`kg parquet export|import` and the bulk arm of `kg fetch --query` (thin wrappers over kg.scale)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kg.sources.arxiv import ArxivClient, ArxivSettings
from kg.sources.bulk import BulkReport, fetch_bulk
from kg.sources.cache import ResponseCache
from kg.store import Store

if TYPE_CHECKING:
    from kg.scale.graph_sql import GraphDB


def render_bulk(report: BulkReport) -> str:
    short = f"; short pages at {report.short_pages}" if report.short_pages else ""
    return (f"arXiv bulk: {report.records} of {report.total} records in {report.folder} "
            f"({report.pages_fetched} pages fetched, {report.pages_resumed} already on disk){short}")


def run_bulk_fetch(store: Store, query: str, settings: ArxivSettings, out: str | None, refresh: bool,
                   as_json: bool) -> None:
    """`kg fetch --query`: page the search into Parquet and print what was done."""
    client = ArxivClient(settings, cache=ResponseCache(store.cache_path("arxiv"), "xml", refresh=refresh))
    report = fetch_bulk(store, query, client, folder=Path(out) if out else None)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else render_bulk(report))


@click.group("parquet")
def parquet_group() -> None:
    """The corpus as partitioned Parquet (papers, systems, edges, vectors), for engines at scale.

    Example: kg parquet export corpus-parquet && kg parquet import corpus-parquet
    """


@parquet_group.command("export")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--rows-per-part", type=int, default=50_000, show_default=True, help="Rows per Parquet file.")
@click.pass_obj
def export_command(store: Store, out: str, rows_per_part: int) -> None:
    """Write the snapshot and the index's document vectors as a Parquet folder.

    Example: kg parquet export corpus-parquet
    """
    from kg.scale.snapshot import export_parquet

    counts = export_parquet(store, Path(out), rows_per_part=rows_per_part)
    click.echo(f"wrote {counts.papers} papers, {counts.systems} systems, {counts.edges} edges, "
               f"{counts.vectors} vectors -> {out}")


@parquet_group.command("import")
@click.argument("src", type=click.Path(file_okay=False, exists=True))
@click.pass_obj
def import_command(store: Store, src: str) -> None:
    """Add the papers, systems and edges of a Parquet folder (e.g. `kg fetch --query`'s) to the snapshot.

    Records already in the snapshot are kept as they are.

    Example: kg parquet import data/bulk/arxiv-0123456789abcdef0123
    """
    from kg.scale.snapshot import import_parquet

    counts = import_parquet(store, Path(src))
    click.echo(f"added {counts.papers} papers, {counts.systems} systems, {counts.edges} edges "
               f"-> {store.corpus_dir}")


# ---- the graph at scale: DuckDB over the Parquet edges ---------------------------------------------
@parquet_group.command("graph")
@click.argument("corpus", type=click.Path(file_okay=False, exists=True))
@click.option("--db", type=click.Path(dir_okay=False), default=None, help="Default: CORPUS/graph.duckdb.")
def graph_command(corpus: str, db: str | None) -> None:
    """Load a Parquet corpus folder's edges into DuckDB for `kg parquet path|lineage|neighbors`.

    Example: kg parquet graph corpus-parquet
    """
    from kg.scale.graph_sql import build_graph_db

    out = build_graph_db(Path(corpus), Path(db) if db else Path(corpus) / "graph.duckdb")
    click.echo(f"-> {out}")


@parquet_group.command("path")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("start")
@click.argument("end")
@click.option("--via", default="lineage,cites", show_default=True, help="Edge kinds, comma-separated.")
def path_command(db: str, start: str, end: str, via: str) -> None:
    """A shortest chain between two papers over the given edge kinds (either direction), in SQL.

    Example: kg parquet path corpus-parquet/graph.duckdb 2006.11239 2112.10752
    """
    from kg.scale.graph_sql import GraphDB

    with GraphDB(Path(db)) as graph:
        echo_sql_path(graph, start, end, tuple(k.strip() for k in via.split(",") if k.strip()), False)


@parquet_group.command("lineage")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("name")
@click.option("--down", is_flag=True, help="Descendants instead of ancestors.")
@click.option("--depth", type=int, default=32, show_default=True, help="Generations at most.")
def lineage_command(db: str, name: str, down: bool, depth: int) -> None:
    """A paper's ancestors (or descendants) over lineage edges, by generation (recursive SQL).

    Example: kg parquet lineage corpus-parquet/graph.duckdb 2307.01952 --depth 3
    """
    from kg.scale.graph_sql import GraphDB

    with GraphDB(Path(db)) as graph:
        for node, generation in graph.lineage(name, up=not down, depth=depth):
            click.echo(f"{'+' if down else '-'}{generation} {node}")


@parquet_group.command("neighbors")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("name")
@click.option("--kind", default="", help="Edge kinds, comma-separated (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def neighbors_command(db: str, name: str, kind: str, as_json: bool) -> None:
    """Every edge at a paper: what it cites or derives from (out), what cites it (in).

    Example: kg parquet neighbors corpus-parquet/graph.duckdb 2112.10752 --kind cites
    """
    from kg.scale.graph_sql import GraphDB

    kinds = tuple(k.strip() for k in kind.split(",") if k.strip())
    with GraphDB(Path(db)) as graph:
        echo_sql_neighbors(graph, name, kinds, as_json)


# ---- output of the SQL graph (here and `kg neighbors|path|lineage` on a build kept in DuckDB) -----------
def echo_sql_path(graph: GraphDB, start: str, end: str, via: tuple[str, ...], as_json: bool) -> None:
    hops = graph.find_path(start, end, via)
    if as_json:
        click.echo(json.dumps({"start": start, "end": end, "via": list(via),
                               "hops": [asdict(h) for h in hops]}, indent=2))
        return
    for hop in hops:
        relation = f" ({hop.relation})" if hop.relation else ""
        click.echo(f"{hop.source} -[{hop.kind}{relation}]-> {hop.target}")


def echo_sql_neighbors(graph: GraphDB, name: str, kinds: tuple[str, ...], as_json: bool) -> None:
    rows = graph.neighbors(name, list(kinds) or None)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    for r in rows:
        click.echo(f"{r.direction:3} {r.kind:10} {r.id}" + (f" ({r.relation})" if r.relation else ""))


def echo_sql_lineage(graph: GraphDB, name: str, directions: list[str], depth: int | None,
                     as_json: bool) -> None:
    found = {d: graph.lineage(name, up=d == "up", depth=depth) for d in directions}
    if as_json:
        click.echo(json.dumps({d: [{"id": i, "generation": g} for i, g in rows] for d, rows in found.items()},
                              indent=2))
        return
    for d, rows in found.items():
        click.echo("Ancestors (derives from):" if d == "up" else "Descendants (derive from it):")
        for node, generation in rows:
            click.echo(f"  {'-' if d == 'up' else '+'}{generation} {node}")
        if not rows:
            click.echo("  none")


commands = [parquet_group]
