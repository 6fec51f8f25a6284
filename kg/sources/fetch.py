"""`kg fetch`: which papers to fetch, fetching them, merging the answers into the snapshot, the summary.

Phases, in order (each merge is one atomic write of the snapshot):
1. arXiv by id: papers with an `arxiv_id`, in `id_list` batches of ≤ 100 cut from the sorted ids;
   a batch whose papers were all fetched before is skipped (unless `refresh` or `only`).
2. arXiv by title: papers keyed `title:<slug>` (no arXiv id known), k titles a query. A unique
   confident match sets the paper's `arxiv_id` (the next `kg ingest` re-keys the record).
3. Merge into data/corpus/papers.jsonl.
4. With `citations`: Semantic Scholar for every paper with an arXiv id or DOI, then counts on the
   papers and `cites` edges (only between corpus papers) in data/corpus/edges.jsonl.

Failures: `OfflineError` (no network at the first request) leaves the snapshot untouched. A batch
that fails after its last retry stops the phase; what was fetched before it is merged and saved,
then `FetchError` (a `SourceError`) names every id not fetched and carries the report.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any

from tqdm import tqdm

from kg.corpus import Corpus
from kg.errors import BadInputError, InvalidIdError, OfflineError, SourceError
from kg.ids import parse_arxiv_id
from kg.model import Edge, Paper
from kg.sources.arxiv import ArxivClient, ArxivSettings, record_from_result
from kg.sources.cache import ResponseCache
from kg.sources.http import SourceStats
from kg.sources.report import (
    AmbiguousTitle,
    CitationSummary,
    Failure,
    FetchReport,
    FieldConflict,
    NotFound,
    ResolvedTitle,
    TitleCandidate,
    TitleChange,
)
from kg.sources.semantic_scholar import S2Client, S2Paper, S2Settings, build_cites_edges, s2_id_for
from kg.sources.titles import TitleMatch, resolve_titles
from kg.store import Store
from kg.text import match_key

logger = logging.getLogger(__name__)

KEEP_EXISTING = frozenset({"doi"})  # a different arXiv value is reported, never written over ours


class FetchError(SourceError):
    """A fetch that stopped after a source failed; `report` says what was done before."""

    def __init__(self, message: str, ids: list[str], report: FetchReport, url: str | None = None):
        super().__init__(message, ids=ids, url=url)
        self.report = report


# ---- which papers ----------------------------------------------------------------------------
def select_only(papers: list[Paper], only: Iterable[str] | None) -> set[str] | None:
    """The record ids that `--only` names (ids, arXiv ids, aliases or titles), or None for all."""
    if only is None:
        return None
    corpus = Corpus(papers)
    return {corpus.resolve(name) for name in only if name.strip()}


def select_id_targets(papers: list[Paper], chosen: set[str] | None,
                      report: FetchReport) -> dict[str, list[Paper]]:
    """Papers with an arXiv id within scope (`chosen`, else all), keyed by the version-less id."""
    targets: dict[str, list[Paper]] = {}
    for p in papers:
        if not p.arxiv_id or (chosen is not None and p.id not in chosen):
            continue
        try:
            aid = parse_arxiv_id(p.arxiv_id).id
        except InvalidIdError as exc:
            report.failures.append(Failure((p.id,), str(exc)))
            continue
        targets.setdefault(aid, []).append(p)
    return targets


def plan_id_batches(targets: dict[str, list[Paper]], size: int, *, every: bool) -> list[list[str]]:
    """The sorted ids cut into batches of `size`; unless `every`, only batches with a paper not fetched yet.

    Batches are cut from every id in scope, fetched or not, so a batch's ids (and its cache key) stay
    the same from run to run while the corpus does: a killed or failed run resumes from the cache,
    and an id arXiv does not know costs no request once its batch is cached.
    """
    ids = sorted(targets)
    batches = [ids[i:i + size] for i in range(0, len(ids), size)]
    if every:
        return batches
    return [b for b in batches if any(p.fetched_at is None for aid in b for p in targets[aid])]


def select_title_targets(papers: list[Paper], chosen: set[str] | None) -> dict[str, str]:
    """Papers without an arXiv id, keyed `title:…`, to look up by title: paper id -> title."""
    return {p.id: p.title for p in papers
            if p.id.startswith("title:") and not p.arxiv_id and p.title
            and (chosen is None or p.id in chosen)}


# ---- merging ---------------------------------------------------------------------------------
def merge_arxiv_record(paper: Paper, record: dict[str, Any], fetched_at: str,
                       report: FetchReport | None = None) -> list[str]:
    """Write arXiv's fields into `paper`; return the names of the fields that changed.

    A field arXiv leaves empty keeps its value; every written field gets provenance
    `arxiv:<fetched_at>`; a fetched title that differs from ours (by match key) is reported.
    """
    stamp = f"arxiv:{fetched_at}"
    changed: list[str] = []
    for name, value in record.items():
        old = getattr(paper, name)
        if value in (None, "", []) or old == value:
            continue
        if name in KEEP_EXISTING and old:
            if report is not None:
                report.conflicts.append(FieldConflict(paper.id, name, old, value))
            continue
        if name == "title" and old and match_key(old) != match_key(value) and report is not None:
            report.title_changes.append(TitleChange(paper.id, old, value, paper.provenance.get("title", "")))
        setattr(paper, name, value)
        paper.provenance[name] = stamp
        changed.append(name)
    paper.fetched_at = fetched_at
    return changed


def _classify(paper: Paper, was_fetched: bool, changed: list[str], report: FetchReport) -> None:
    """new: fetched for the first time; updated: fetched before, something changed; else unchanged."""
    if not was_fetched:
        report.new.append(paper.id)
    elif changed:
        report.updated.append(paper.id)
    else:
        report.unchanged.append(paper.id)


def merge_by_id(targets: dict[str, list[Paper]], results: dict[str, tuple[Any, str]],
                report: FetchReport) -> None:
    for aid, (result, fetched_at) in sorted(results.items()):
        for paper in targets.get(aid, []):
            was_fetched = paper.fetched_at is not None
            changed = merge_arxiv_record(paper, record_from_result(result), fetched_at, report)
            _classify(paper, was_fetched, changed, report)


def merge_titles(papers: dict[str, Paper], matches: dict[str, TitleMatch], report: FetchReport) -> None:
    known = {p.arxiv_id: p.id for p in papers.values() if p.arxiv_id} | {i: i for i in papers}
    for pid, m in sorted(matches.items()):
        if m.status == "ambiguous":
            candidates = tuple(TitleCandidate(*c) for c in m.candidates)
            report.ambiguous.append(AmbiguousTitle(pid, m.title, candidates))
        elif m.status == "not_found" or m.result is None or m.fetched_at is None or m.arxiv_id is None:
            report.not_found.append(NotFound(pid, "no arXiv title matches", title=m.title))
        elif m.arxiv_id in known:
            report.not_found.append(NotFound(pid, f"matches {known[m.arxiv_id]}, already in the corpus",
                                             title=m.title, arxiv_id=m.arxiv_id))
        else:
            paper = papers[pid]
            changed = merge_arxiv_record(paper, record_from_result(m.result), m.fetched_at, report)
            known[m.arxiv_id] = pid  # a second title matching the same paper is a duplicate
            report.resolved.append(ResolvedTitle(pid, m.title, paper.arxiv_id))
            _classify(paper, False, changed, report)


def merge_citations(papers: dict[str, Paper], answers: dict[str, S2Paper], edges: list[Edge],
                    report: FetchReport) -> list[Edge]:
    """Counts onto the papers; the stored edges with the queried papers' `cites` edges replaced."""
    for pid, answer in answers.items():
        if answer.entry is None:
            continue
        paper, stamp = papers[pid], f"semantic_scholar:{answer.fetched_at}"
        for name, key in (("citation_count", "citationCount"),
                          ("influential_citation_count", "influentialCitationCount")):
            value = answer.entry.get(key)
            if isinstance(value, int) and getattr(paper, name) != value:
                setattr(paper, name, value)
                paper.provenance[name] = stamp
    cites = build_cites_edges(answers, papers.values())
    kept = [e for e in edges if not (e.kind == "cites" and e.source in answers)]
    unknown = sorted(pid for pid, a in answers.items() if a.entry is None)
    report.citations = CitationSummary(len(answers) - len(unknown), tuple(unknown), len(cites))
    return kept + cites


# ---- saving ----------------------------------------------------------------------------------
def _snapshot(papers: list[Paper]) -> list[dict[str, Any]]:
    return [p.to_dict() for p in papers]


def _edge_set(edges: list[Edge]) -> set[tuple[Any, ...]]:
    return {tuple(e.to_dict().values()) for e in edges}


# ---- the run ---------------------------------------------------------------------------------
def _fetch_ids(client: ArxivClient, targets: dict[str, list[Paper]], batches: list[list[str]],
               report: FetchReport, tick: Callable[[int], object]
               ) -> tuple[dict[str, tuple[Any, str]], FetchError | None]:
    """Results by arXiv id, and the error that stopped the batches (None when all came back)."""
    results: dict[str, tuple[Any, str]] = {}
    for n, ids in enumerate(batches):
        try:
            batch = client.fetch_ids(ids)
        except OfflineError:
            raise
        except SourceError as exc:
            rest = [p.id for b in batches[n:] for aid in b for p in targets[aid]]
            return results, FetchError(exc.reason, rest, report, exc.url)
        results.update({aid: (r, batch.fetched_at) for aid, r in batch.results.items()})
        for aid in batch.missing:
            for p in targets[aid]:
                report.not_found.append(NotFound(p.id, "arXiv does not know it", arxiv_id=aid))
        tick(1)
    return results, None


def _progress(total: int, desc: str, enabled: bool) -> tqdm[Any]:
    return tqdm(total=total, desc=desc, unit="req", file=sys.stderr, disable=not enabled or total == 0,
                leave=False)


def fetch_arxiv(store: Store, papers: list[Paper], report: FetchReport, *, client: ArxivClient,
                chosen: set[str] | None, refresh: bool, progress: bool) -> FetchError | None:
    """Phases 1-3; merges into `papers` (in place) and saves them. The error that stopped it, if any."""
    targets = select_id_targets(papers, chosen, report)
    batches = plan_id_batches(targets, client.settings.page_size, every=refresh or chosen is not None)
    titles = select_title_targets(papers, chosen)
    total = len(batches) + -(-len(titles) // client.settings.titles_per_query)
    with _progress(total, "arXiv", progress) as bar:
        results, error = _fetch_ids(client, targets, batches, report, bar.update)
        matches: dict[str, TitleMatch] = {}
        if error is None and titles:
            try:
                matches = resolve_titles(client, titles, bar.update)
            except OfflineError:
                raise
            except SourceError as exc:
                error = FetchError(exc.reason, exc.ids, report, exc.url)
    before = _snapshot(papers)
    merge_by_id(targets, results, report)
    merge_titles({p.id: p for p in papers}, matches, report)
    if _snapshot(papers) != before:
        store.save_papers(papers)
    if error is not None:
        report.failures.append(Failure(tuple(error.ids), str(error)))
    return error


def fetch_citations(store: Store, papers: list[Paper], report: FetchReport, *, client: S2Client,
                    chosen: set[str] | None, progress: bool) -> None:
    """Phase 4: Semantic Scholar counts and `cites` edges, saved with the papers.

    `FetchError` after a batch failed; the answers of the batches before it are saved first.
    """
    wanted = {sid: p.id for p in papers if (sid := s2_id_for(p)) and (chosen is None or p.id in chosen)}
    total = -(-len(wanted) // client.settings.batch_size)
    with _progress(total, "Semantic Scholar", progress) as bar:
        found, failure = client.fetch_papers(wanted, bar.update)
    answers = {wanted[s2_id]: answer for s2_id, answer in found.items()}
    before, stored = _snapshot(papers), store.load_edges()
    edges = merge_citations({p.id: p for p in papers}, answers, stored, report)
    if _snapshot(papers) != before:
        store.save_papers(papers)
    if _edge_set(edges) != _edge_set(stored):
        store.save_edges(edges)
    if failure is not None:
        ids = [wanted[i] for i in failure.ids if i in wanted]
        report.failures.append(Failure(tuple(ids), str(failure)))
        raise FetchError(failure.reason, ids, report, failure.url)


def fetch_corpus(store: Store, *, arxiv_settings: ArxivSettings | None = None,
                 s2_settings: S2Settings | None = None, api_key: str | None = None,
                 citations: bool = False, refresh: bool = False, only: Iterable[str] | None = None,
                 progress: bool = False) -> FetchReport:
    """Fetch arXiv metadata (and, with `citations`, Semantic Scholar citations) for the snapshot.

    `only` limits the run to the named papers; `refresh` ignores the cache and fetches every paper
    again; `api_key` is Semantic Scholar's (optional). Returns the report; raises `OfflineError`
    (snapshot untouched) or `FetchError` (what came before the failure is saved; see module doc).
    """
    papers = store.load_papers()
    if not papers:
        raise BadInputError(f"no corpus snapshot at {store.papers_path}; run `kg ingest` first")
    chosen = select_only(papers, only)
    report = FetchReport()
    report.stats["arxiv"] = SourceStats()
    arxiv_cache = ResponseCache(store.cache_path("arxiv"), "xml", refresh=refresh)
    client = ArxivClient(arxiv_settings, cache=arxiv_cache, stats=report.stats["arxiv"])
    error = fetch_arxiv(store, papers, report, client=client, chosen=chosen, refresh=refresh,
                        progress=progress)
    if error is not None:
        raise error
    if citations:
        report.stats["semantic_scholar"] = SourceStats()
        s2_cache = ResponseCache(store.cache_path("semantic_scholar"), "json", refresh=refresh)
        s2 = S2Client(s2_settings, api_key=api_key, cache=s2_cache, stats=report.stats["semantic_scholar"])
        fetch_citations(store, papers, report, client=s2, chosen=chosen, progress=progress)
    return report
