"""`kg parquet export|import` and the bulk arm of `kg fetch --query` (thin wrappers over kg.scale)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kg.sources.arxiv import ArxivClient, ArxivSettings
from kg.sources.bulk import BulkReport, fetch_bulk
from kg.sources.cache import ResponseCache
from kg.store import Store


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


commands = [parquet_group]
