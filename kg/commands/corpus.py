"""`kg ingest`, `kg show`, `kg list`: the corpus commands."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kg.commands.render import graph_lines, printable, render_record, render_record_table
from kg.corpus import Corpus, filter_records, parse_year_range
from kg.errors import StaleIndexError
from kg.export.keys import record_new_keys
from kg.graph.build import GraphInDuckDBError, load_graph
from kg.graph.query import record_context
from kg.ingest.parser import MAX_LIST_BYTES
from kg.ingest.run import ingest
from kg.lock import writer_lock
from kg.store import Store


@click.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--dry-run", is_flag=True, help="Parse and report, write nothing.")
@click.option("--max-size", type=int, default=MAX_LIST_BYTES, show_default=True,
              help="Largest reading list accepted, in bytes.")
@click.option("--strict", is_flag=True,
              help="All or nothing: an entry that cannot be read stops the run and nothing is written.")
@click.pass_context
def ingest_command(ctx: click.Context, paths: tuple[Path, ...], as_json: bool, dry_run: bool,
                   max_size: int, strict: bool) -> None:
    """Read reading lists (default: data/reading-lists) into the corpus snapshot and report problems.

    Every listed paper is resolved once (by arXiv id, else title, else short name) against the
    facts and the snapshot; nothing is written when any list is unreadable. The lists given are
    taken as the whole of your reading lists: a paper none of them names leaves the corpus (it is
    kept, as `unlisted`, when it holds fetched data, so nothing fetched is lost).

    An entry that cannot be read (an invalid arXiv id) costs that entry only: it is reported with
    file:line, the rest is written, and the exit status is 1. `--strict` writes nothing instead. A
    list that cannot be read at all stops the run with exit status 2, before anything is written.

    Example: kg ingest data/reading-lists --json
    """
    store: Store = ctx.obj
    with writer_lock(store, "kg ingest", on_wait=lambda msg: click.echo(msg, err=True)):
        with store.batch():
            result = ingest(store, list(paths) or None, write=not dry_run, max_bytes=max_size, strict=strict)
        if not dry_run:
            record_new_keys(store)  # citation keys are given out where the corpus is written
    if as_json:
        click.echo(json.dumps(result.report.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(result.report.render())
        if not dry_run:
            click.echo(f"\nWrote {store.papers_path} and {store.systems_path}.")
    if result.report.skipped:
        click.echo(f"error: {result.report.summary_line()}", err=True)
        ctx.exit(1)


@click.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
@click.pass_obj
def show_command(store: Store, name: str, as_json: bool) -> None:
    """Show one paper or model release: by arXiv id (any version), short name or title.

    Shows every field with its source, the lists' notes and mentions, the direct lineage with
    evidence, and the record's PageRank over citation and lineage edges.

    Example: kg show LDM
    """
    corpus = Corpus.require(store)
    record = corpus.get(corpus.resolve(name))
    try:
        context, missing = record_context(load_graph(store), record.id), None
    except (StaleIndexError, GraphInDuckDBError) as exc:  # no graph context, never a lesser graph
        context, missing = {}, exc
    if as_json:
        click.echo(json.dumps({**record.to_dict(), "graph": context or None}, ensure_ascii=False, indent=2))
        return
    click.echo(printable(render_record(record, graph_lines(context))))
    if missing is not None:
        click.echo(f"note: no lineage or rank shown: {missing}", err=True)


@click.command("list")
@click.option("--topic", help="Only records under a section whose name contains this text.")
@click.option("--year", help="A year (2022) or a range (2021:2024, 2021:, :2020).")
@click.option("--status", type=click.Choice(["listed", "mentioned", "unlisted", "all"]), default=None,
              help="listed, only mentioned, or kept from an earlier list (default: listed+mentioned).")
@click.option("--kind", type=click.Choice(["paper", "system", "all"]), default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON lines.")
@click.pass_obj
def list_command(store: Store, topic: str | None, year: str | None, status: str | None, kind: str,
                 as_json: bool) -> None:
    """List the corpus, filtered by topic, year, status or kind.

    Example: kg list --topic "Stable Diffusion" --year 2022:2024
    """
    records = filter_records(Corpus.require(store), topic=topic, years=parse_year_range(year),
                             status=status, kind=kind)
    if as_json:
        for record in records:
            click.echo(json.dumps(record.to_dict(), ensure_ascii=False))
    else:
        click.echo(printable(render_record_table(records)))


commands = [ingest_command, show_command, list_command]
