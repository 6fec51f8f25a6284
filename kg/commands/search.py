"""`kg build`, `kg search`, `kg similar`, `kg eval`: the search commands (thin wrappers over kg.search
and kg.pipeline)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from kg.search.documents import Filters
from kg.search.engine import DEFAULT_MODE, MODES, Hit, load_searcher
from kg.search.index import Manifest, index_dir
from kg.store import Store

# kg.pipeline (the graph, networkx) and kg.search.evaluate (ir-measures) load only in the commands that
# need them: `kg search` starts in a fraction of a second.

MODEL_HELP = ("Embedding model: a sentence-transformers name or a local path (env KG_MODEL; default: the "
              "index's model, else the bundled all-MiniLM-L6-v2).")
LONG_QUERY_CHARS = 1000  # past this, say that the model reads only the beginning


@click.command("build")
@click.option("--model", envvar="KG_MODEL", default=None, help=MODEL_HELP)
@click.option("--force", is_flag=True, help="Rebuild even when the index is up to date.")
@click.option("--json", "as_json", is_flag=True, help="Print the index manifest as JSON.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Embed as a Ray Data job: on a local Ray, or on the cluster at ADDRESS (docs/scale.md).")
@click.option("--ray-actors", type=int, default=None, help="With --ray: model copies (default: one per CPU).")
@click.option("--ray-staging", type=click.Path(file_okay=False), default=None,
              help="With --ray ADDRESS: a folder every node can read, for the staged texts.")
@click.pass_obj
def build_command(store: Store, model: str | None, force: bool, as_json: bool, ray_address: str | None = None,
                  ray_actors: int | None = None, ray_staging: str | None = None) -> None:
    """Build the search index and the knowledge graph from the corpus snapshot (offline).

    A stale index is rebuilt; the graph gets `similar_to` edges from the index.

    After papers are added, changed or removed, the index is updated: only those papers are embedded.

    Example: kg build
    """
    from kg.commands.graph import echo_graph_report, graph_report_data
    from kg.pipeline import build_all

    started = time.perf_counter()
    encoder = None
    if ray_address is not None:
        from kg.scale import ray_embed

        staging = Path(ray_staging) if ray_staging else None
        encoder = ray_embed.ray_encoder(model, ray_address, ray_actors, staging)
    result = build_all(store, encoder=encoder, model=model, force=force, progress=sys.stderr.isatty(),
                       on_wait=lambda msg: click.echo(msg, err=True))
    for part, problems in result.repaired.items():
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        click.echo(f"repaired {part}: {problems[0]}{more}", err=True)
    if as_json:
        click.echo(json.dumps({"rebuilt": result.index_rebuilt, "updated": result.index_updated,
                               **result.manifest.to_dict(),
                               "graph": graph_report_data(result.report)}, ensure_ascii=False, indent=2))
        return
    seconds = time.perf_counter() - started - result.report.seconds
    click.echo(render_manifest(result.manifest, result.index_rebuilt or result.index_updated, seconds,
                               index_dir(Store(store.root))))
    echo_graph_report(result.graph, result.report)


def render_manifest(manifest: Manifest, rebuilt: bool, seconds: float, where: Path) -> str:
    kind = "exact inner product" if manifest.index_type == "flat" else "IVF-PQ"
    what = (f"{manifest.n_documents} papers, {manifest.n_sentences} sentences, model {manifest.model} "
            f"({manifest.dimension} dimensions), {kind}")
    if not rebuilt:
        return f"Search index is up to date: {what}. Use --force to rebuild."
    if manifest.update is not None:
        counts = ", ".join(f"{n} {kind}" for kind, n in manifest.update.items())
        return (f"Updated the search index in {seconds:.1f} s: {what} ({counts}; {manifest.embedded} "
                f"sentences embedded).\n-> {where}")
    embedded = "" if manifest.embedded is None else f"; {manifest.embedded} sentences embedded, rest cached"
    return f"Built the search index in {seconds:.1f} s: {what}{embedded}.\n-> {where}"


@click.command("search")
@click.argument("query")
@click.option("-k", "--top", "k", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many papers to show.")
@click.option("--mode", type=click.Choice(MODES), default=DEFAULT_MODE, show_default=True,
              help="dense (embeddings), bm25 (words) or hybrid (both, fused by rank).")
@click.option("--year", help="A year (2022) or a range (2021:2024, 2021:, :2020).")
@click.option("--topic", multiple=True, help="Only papers under a section whose name contains this text "
              "(repeatable: any of them).")
@click.option("--category", multiple=True, help="Only papers in this arXiv category (cs.CV, or cs for "
              "cs.*; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.option("--model", envvar="KG_MODEL", default=None, help=MODEL_HELP)
@click.pass_obj
def search_command(store: Store, query: str, k: int, mode: str, year: str | None, topic: tuple[str, ...],
                   category: tuple[str, ...], as_json: bool, model: str | None) -> None:
    """Search the corpus by meaning and words; each hit shows the sentence that matched and where.

    Example: kg search "which papers accelerate sampling?" -k 5 --year 2022:2024
    """
    filters = Filters.from_options(year, topic, category)
    searcher = load_searcher(store, model=model)  # checked by the snapshot files' digest
    hits = searcher.search(query, k=k, mode=mode, filters=filters)
    if as_json:
        click.echo(json.dumps({"query": query, "mode": mode, "k": k, "model": searcher.model,
                               "filters": filters.__dict__, "hits": [h.to_dict() for h in hits]},
                              ensure_ascii=False, indent=2))
        return
    if len(query) > LONG_QUERY_CHARS and mode != "bm25":
        click.echo(f"note: the query has {len(query)} characters; the embedding model reads only its "
                   f"beginning (BM25 uses all of it).", err=True)
    if not hits:
        click.echo(no_hits_message(query, mode, filters))
        return
    click.echo(render_hits(hits))


def no_hits_message(query: str, mode: str, filters: Filters) -> str:
    shown = query if len(query) <= 60 else query[:57] + "..."
    if not filters.is_empty:
        return f"No papers match {shown!r}: none passes the filters."
    return f"No papers match {shown!r}: no indexed title or note contains any of its words ({mode} mode)."


def render_hits(hits: list[Hit]) -> str:
    """Hits as numbered blocks: title (year) id; the matching sentence and its source; the scores."""
    blocks = []
    for h in hits:
        year = f" ({h.year})" if h.year else ""
        kind = "  (model release)" if h.kind == "system" else ""
        lines = [f"{h.rank:>2}. {h.title}{year}  [{h.id}]{kind}"]
        if h.sentence:
            sentence = h.sentence if len(h.sentence) <= 220 else h.sentence[:217] + "..."
            lines.append(f"    \"{sentence}\"  ({h.field})")
        if h.builds_on:
            lines.append(f"    builds on {', '.join(h.builds_on)}  (lineage.csv)")
        lines.append("    " + _render_scores(h))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _render_scores(h: Hit) -> str:
    parts = ["exact name"] if h.exact_name else []
    parts += [f"{h.mode} {h.score:.4f}"] if h.mode == "hybrid" else []
    if h.dense_score is not None:
        parts.append(f"dense {h.dense_score:.3f} (#{h.dense_rank})")
    if h.bm25_score is not None:
        parts.append(f"bm25 {h.bm25_score:.2f} (#{h.bm25_rank})")
    elif h.mode in ("hybrid", "bm25"):
        parts.append("bm25 no word match")
    return " · ".join(parts)


@click.command("similar")
@click.argument("name")
@click.option("-k", "--top", "k", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the neighbours as JSON.")
@click.option("--model", envvar="KG_MODEL", default=None, help=MODEL_HELP)
@click.pass_obj
def similar_command(store: Store, name: str, k: int, as_json: bool, model: str | None) -> None:
    """Papers closest to one paper in embedding space (by id, short name or title).

    Example: kg similar DDIM -k 5
    """
    from kg.corpus import Corpus

    corpus = Corpus.require(store)
    record_id = corpus.resolve(name)
    searcher = load_searcher(store, model=model)
    hits = searcher.similar(record_id, k=k)
    if as_json:
        click.echo(json.dumps({"id": record_id, "model": searcher.model, "hits": [h.to_dict() for h in hits]},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"Closest to {corpus.get(record_id).title} [{record_id}]:")
    click.echo(render_hits(hits) if hits else "No other papers in the index.")


@click.command("eval")
@click.option("--queries", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Labelled queries (JSON lines; default: data/eval/queries.jsonl).")
@click.option("--json", "as_json", is_flag=True, help="Print scores (and per-query scores) as JSON.")
@click.option("--model", envvar="KG_MODEL", default=None, help=MODEL_HELP)
@click.pass_obj
def eval_command(store: Store, path: Path | None, as_json: bool, model: str | None) -> None:
    """Score dense, BM25 and hybrid search on a labelled query set (nDCG@10, recall@10).

    Example: kg eval
    """
    from kg.search.evaluate import evaluate, load_queries, queries_path

    path = path or queries_path(store)
    queries = load_queries(path)
    searcher = load_searcher(store, model=model)  # checked by the snapshot files' digest
    report = evaluate(searcher, queries, path=str(path))
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{report.n_queries} queries from {path}, model {searcher.model}\n")
    click.echo(f"{'mode':<8} {'nDCG@10':>8} {'R@10':>8}")
    for mode, scores in report.scores.items():
        mark = "  (default)" if mode == DEFAULT_MODE else ""
        click.echo(f"{mode:<8} {scores['nDCG@10']:>8.4f} {scores['R@10']:>8.4f}{mark}")
    if report.families:
        click.echo("\n" + render_families(report.families, report.family_sizes))


def render_families(families: dict[str, dict[str, float]], sizes: dict[str, int]) -> str:
    """nDCG@10 per query family and mode, the best mode of each family marked with *."""
    modes = list(next(iter(families.values())))
    lines = [f"{'family':<16} {'n':>3} " + " ".join(f"{m:>8}" for m in modes)]
    for family, scores in families.items():
        best = max(scores.values())
        cells = " ".join(f"{scores[m]:>7.4f}{'*' if scores[m] == best else ' '}" for m in modes)
        lines.append(f"{family:<16} {sizes[family]:>3} {cells}")
    return "\n".join(lines)


commands = [build_command, search_command, similar_command, eval_command]
