"""`kg export`: a bibliography of a selection in BibTeX, BibLaTeX, RIS, CSL-JSON or Markdown."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kg.corpus import Corpus
from kg.export import FORMATS, build_export
from kg.export.select import lineage_family_ids, select_records
from kg.store import Store, write_output

# Selections other modules make (--lineage: kg.graph.build's family; --query: kg.search.engine's hits) reach
# `select_records(..., ids=...)`, which checks every id and unions them with the other selectors.


@click.command("export")
@click.argument("names", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="bibtex", show_default=True,
              help="bibtex (ASCII, for bibtex), biblatex (UTF-8, for biber), ris, csl-json or markdown.")
@click.option("--style", default=None,
              help="CSL style for markdown: apa (default), ieee, chicago-author-date, nature, … "
                   "or a .csl file.")
@click.option("--topic", "topics", multiple=True,
              help="Every record under a reading-list section whose name contains this text (repeatable).")
@click.option("--lineage", "families", multiple=True,
              help="A record's lineage family: it, its ancestors and descendants (repeatable).")
@click.option("--depth", type=click.IntRange(min=1), default=None,
              help="Generations for --lineage (default: all).")
@click.option("--query", "queries", multiple=True,
              help="The top hits of a semantic search for this text (repeatable; needs `kg build`).")
@click.option("-k", "--top", "k", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many hits of each --query to take.")
@click.option("--all", "everything", is_flag=True, help="Every paper and model release the lists name.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically) instead of standard output.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON summary (keys by id, left out, new keys; the text itself without --out).")
@click.pass_obj
def export_command(store: Store, names: tuple[str, ...], fmt: str, style: str | None,
                   topics: tuple[str, ...], families: tuple[str, ...], depth: int | None,
                   queries: tuple[str, ...], k: int, everything: bool, out: Path | None,
                   as_json: bool) -> None:
    """Export a bibliography of named papers (ids, short names, titles), topics, lineage families or all.

    Citation keys are stable: once given, a key is kept in data/corpus/bibkeys.json and never
    changes when papers are added. Model releases with no date or source to cite are left out
    (listed on standard error).

    Example: kg export --format bibtex --lineage SDXL --out sdxl.bib
    Example: kg export --format ris --query "which papers accelerate sampling?" -k 5
    """
    corpus = Corpus.require(store)
    ids = lineage_family_ids(store, corpus, families, depth) + search_hit_ids(store, corpus, queries, k)
    records = select_records(corpus, names=names, topics=topics, everything=everything, ids=ids)
    result = build_export(records, fmt, style=style, store=store)
    if out is not None and str(out) == "-":
        out = None
    if out is not None:
        write_output(out, result.text)
    if as_json:
        summary = {"format": fmt, "style": style, "out": str(out) if out else None, "keys": result.keys,
                   "left_out": result.left_out, "new_keys": result.new_keys}
        click.echo(json.dumps(summary | ({} if out else {"text": result.text}), ensure_ascii=False, indent=2))
        return
    for record_id, why in sorted(result.left_out.items()):
        click.echo(f"left out {record_id} ({corpus.get(record_id).label}): {why}", err=True)
    if out is None:
        click.echo(result.text, nl=False)
        return
    new = (f"; {len(result.new_keys)} records have no recorded key yet (`kg ingest` records them in "
           f"{store.keys_path})" if result.new_keys else "")
    click.echo(f"wrote {len(result.keys)} entries ({fmt}) to {out}{new}", err=True)


commands = [export_command]


def search_hit_ids(store: Store, corpus: Corpus, queries: tuple[str, ...], k: int) -> list[str]:
    """The ids of the top `k` hits of each query (the default search mode)."""
    if not queries:
        return []
    from kg.search.engine import load_searcher  # faiss and the model's code load only for --query

    searcher = load_searcher(store)  # the snapshot `corpus` was read from
    return [hit.id for query in queries for hit in searcher.search(query, k=k)]

