"""`kg fetch`: arXiv metadata and, with --citations, Semantic Scholar citations for the snapshot."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from kg.export.keys import record_new_keys
from kg.lock import writer_lock
from kg.sources.arxiv import ArxivSettings, endpoint_format
from kg.sources.fetch import FetchError, fetch_corpus
from kg.sources.report import FetchReport
from kg.sources.semantic_scholar import S2Settings
from kg.store import Store

S2_KEY_ENV = "S2_API_KEY"
SOURCE_NAMES = {"arxiv": "arXiv", "semantic_scholar": "Semantic Scholar"}


def _n(count: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{count} {noun if count == 1 else plural}"


def _kb(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def _lines_for_titles(report: FetchReport) -> list[str]:
    lines = [f"  title resolved: {r.paper} -> {r.arxiv_id}" for r in report.resolved]
    for a in report.ambiguous:
        shown = "; ".join(f"{c.arxiv_id} {c.title!r}" for c in a.candidates)
        lines.append(f"  ambiguous title, not resolved: {a.paper} {a.title!r}: {shown}")
    for t in report.title_changes:
        lines.append(f"  title differs: {t.paper}: ours {t.ours!r} ({t.ours_from or 'list'}), "
                     f"arXiv {t.arxiv!r}")
    for c in report.conflicts:
        lines.append(f"  kept our {c.field} for {c.paper}: {c.ours!r} (arXiv: {c.arxiv!r})")
    return lines


def format_summary(report: FetchReport) -> str:
    """The closing summary: requests, cache hits, new/updated papers, titles, failures."""
    lines = [f"{SOURCE_NAMES.get(name, name)}: {_n(s.requests, 'request')} ({_n(s.retries, 'retry')}), "
             f"{_n(s.cache_hits, 'cache hit')}, {_kb(s.bytes)}" for name, s in report.stats.items()]
    lines.append(f"papers: {len(report.new)} new, {len(report.updated)} updated, "
                 f"{len(report.unchanged)} unchanged")
    lines += _lines_for_titles(report)
    for n in report.not_found:
        lines.append(f"  not found: {n.paper} ({n.reason})")
    if report.citations is not None:
        c = report.citations
        lines.append(f"citations: {c.papers} papers known to Semantic Scholar, {c.cites_edges} cites "
                     f"edges in the corpus, {len(c.unknown_to_semantic_scholar)} unknown to it")
    for f in report.failures:
        lines.append(f"  failed: {f.error}")
    return "\n".join(lines)


def _echo_report(report: FetchReport, as_json: bool, error: str | None = None) -> None:
    if as_json:
        data: dict[str, Any] = report.to_dict()
        data["error"] = error
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(format_summary(report))


def _split(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


@click.command("fetch")
@click.option("--citations", is_flag=True,
              help="Also fetch citation counts and `cites` edges (Semantic Scholar).")
@click.option("--refresh", is_flag=True, help="Ignore the cache and fetch every paper again.")
@click.option("--only", multiple=True, metavar="IDS",
              help="Only these papers: ids, arXiv ids, aliases or titles, comma-separated (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--arxiv-url", metavar="URL", default=None,
              help="arXiv API endpoint (default https://export.arxiv.org/api/query).")
@click.option("--s2-url", metavar="URL", default=None,
              help="Semantic Scholar API root (default https://api.semanticscholar.org).")
@click.option("--delay", type=float, default=None, metavar="SECONDS",
              help="Seconds between arXiv requests (default 3; never less than 3 against arXiv itself).")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
@click.option("--query", "bulk_query", metavar="QUERY", default=None,
              help="Bulk: page a whole arXiv search into Parquet, 2,000 a request (see docs/scale.md).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="With --query: the Parquet folder (default data/bulk/<hash of the query>).")
@click.pass_obj
def fetch(store: Store, citations: bool, refresh: bool, only: tuple[str, ...], as_json: bool,
          arxiv_url: str | None, s2_url: str | None, delay: float | None, no_progress: bool,
          bulk_query: str | None = None, out: str | None = None) -> None:
    """Fetch arXiv metadata for the corpus; with --citations, Semantic Scholar citations too.

    The only command that uses the network. Every response is cached under data/cache/, so a re-run
    makes no requests and an interrupted run resumes. A Semantic Scholar API key, if you have one,
    is read from the environment variable S2_API_KEY.

    With --query, pages a whole arXiv search into Parquet instead (resumable; see docs/scale.md).

    Example: kg fetch --citations --only 2112.10752,SDXL
    """
    arxiv_kwargs: dict[str, Any] = {}
    if arxiv_url:
        arxiv_kwargs["query_url_format"] = endpoint_format(arxiv_url)
    if delay is not None:
        arxiv_kwargs["delay_seconds"] = delay
    if bulk_query is not None:
        from kg.commands.scale import run_bulk_fetch

        with writer_lock(store, "kg fetch --query", on_wait=lambda msg: click.echo(msg, err=True)):
            return run_bulk_fetch(store, bulk_query, ArxivSettings(**arxiv_kwargs), out, refresh, as_json)
    s2_settings = S2Settings(base_url=s2_url) if s2_url else S2Settings()
    try:
        with writer_lock(store, "kg fetch", on_wait=lambda msg: click.echo(msg, err=True)):
            try:
                with store.batch():
                    report = fetch_corpus(store, arxiv_settings=ArxivSettings(**arxiv_kwargs),
                                          s2_settings=s2_settings, api_key=os.environ.get(S2_KEY_ENV) or None,
                                          citations=citations,
                                          refresh=refresh, only=_split(only), progress=not no_progress)
            finally:
                record_new_keys(store)  # citation keys are given out where the corpus is written
    except FetchError as exc:
        _echo_report(exc.report, as_json, str(exc))
        raise
    _echo_report(report, as_json)


commands = [fetch]
