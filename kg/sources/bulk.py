"""Bulk metadata: a whole arXiv search (`kg fetch --query 'cat:cs.CV AND submittedDate:[…]'`) paged
into Parquet, 2,000 records a request.

Pages are asked for in submission order (`sortBy=submittedDate&sortOrder=ascending`), so a page's
records do not move while later pages are fetched. Each page goes through `ArxivClient.fetch_page`
(spacing, backoff, Retry-After, the response cache) and atom.py's `parse_feed`; a partial page (fewer
entries than totalResults announces) is dropped from the cache and asked again. A page is written as
its own Parquet part `papers/page-<start>.parquet` (atomically) before the next is asked for. A run
killed at any instant loses at most the page in flight; the next run skips the pages on disk.
`query.json` beside them records the query, the page size and arXiv's totalResults.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import arxiv
import pyarrow.parquet as pq

from kg.errors import BadInputError, SourceError
from kg.ids import parse_arxiv_id
from kg.model import Paper
from kg.scale.parquet import papers_table, part_files, write_part
from kg.sources.arxiv import ArxivClient, record_from_result, results_by_id
from kg.sources.atom import Feed, FeedError, parse_feed
from kg.sources.cache import CachedResponse, request_key
from kg.sources.http import RequestFailed
from kg.store import Store, read_json, write_json

logger = logging.getLogger(__name__)

BULK_PAGE_SIZE = 2000  # arXiv's largest page for one request
PAGE_PREFIX = "page-"


@dataclass
class BulkReport:
    """What a bulk fetch did: pages fetched now, pages found on disk (resumed), records written."""

    query: str
    folder: str
    total: int = 0
    pages_fetched: int = 0
    pages_resumed: int = 0
    records: int = 0
    short_pages: list[int] = field(default_factory=list)  # starts of pages with fewer entries than due

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def bulk_folder(store: Store, query: str) -> Path:
    """The default folder of a query's Parquet corpus: data/bulk/<hash of the query>/."""
    return store.root / "bulk" / request_key("arxiv", query)


def page_path(folder: Path, start: int) -> Path:
    return folder / "papers" / f"{PAGE_PREFIX}{start:09d}.parquet"


def pages_on_disk(folder: Path) -> set[int]:
    """Starts of the pages already written (complete parts only: each is written atomically)."""
    return {int(p.stem[len(PAGE_PREFIX):]) for p in part_files(folder / "papers")
            if p.stem.startswith(PAGE_PREFIX) and p.stem[len(PAGE_PREFIX):].isdigit()}


def page_url(client: ArxivClient, query: str, start: int, size: int) -> str:
    params = {"search_query": query, "start": start, "max_results": size,
              "sortBy": "submittedDate", "sortOrder": "ascending"}
    return client.settings.query_url_format.format(urlencode(params))


def papers_from_results(results: list[arxiv.Result], fetched_at: str) -> list[Paper]:
    """Our records for one page (the one mapping: arxiv.py's `record_from_result`)."""
    stamp = f"arxiv:{fetched_at}"
    papers = []
    for result in results:
        record = record_from_result(result)
        aid = parse_arxiv_id(str(record["arxiv_id"])).id
        provenance = {name: stamp for name, value in record.items() if value not in (None, [])}
        papers.append(Paper(id=aid, **record, provenance=provenance, fetched_at=fetched_at))
    return papers


def fetch_bulk(store: Store, query: str, client: ArxivClient, *, folder: Path | None = None,
               page_size: int = BULK_PAGE_SIZE) -> BulkReport:
    """Page `query` into `folder` (default `bulk_folder`), resuming from the pages already there."""
    if not query.strip():
        raise BadInputError("an empty --query")
    folder = folder or bulk_folder(store, query)
    report = BulkReport(query, str(folder))
    state = _check_state(folder, query, page_size)
    done = pages_on_disk(folder)
    total = int(state["total"]) if state else None
    start = 0
    while total is None or start < total:
        if start in done and total is not None:
            report.pages_resumed += 1
        else:
            total = _fetch_page(client, folder, query, start, page_size, total, report)
        start += page_size
    report.total = total or 0
    report.records = sum(_rows(page_path(folder, s)) for s in pages_on_disk(folder))
    return report


def _check_state(folder: Path, query: str, page_size: int) -> dict[str, Any] | None:
    path = folder / "query.json"
    if not path.exists():
        return None
    state = read_json(path)
    if state.get("query") != query or state.get("page_size") != page_size:
        raise BadInputError(f"{folder} holds pages of another query or page size "
                            f"({state.get('query')!r}, {state.get('page_size')}); choose another --out")
    return dict(state)


def _fetch_page(client: ArxivClient, folder: Path, query: str, start: int, size: int,
                total: int | None, report: BulkReport) -> int:
    """Fetch, parse and write the page at `start`; returns the query's total."""
    url = page_url(client, query, start, size)
    page, feed = _complete_page(client, url, size, first=total is None)
    results = list(results_by_id(feed.results).values())
    if total is None:
        total = feed.total_results or 0
        write_json(folder / "query.json", {"query": query, "page_size": size, "total": total})
    due = min(size, total - start)
    if len(results) < due:
        logger.warning("arXiv: page at %d has %d of %d entries", start, len(results), due)
        report.short_pages.append(start)
    if results:
        write_part(page_path(folder, start), papers_table(papers_from_results(results, page.fetched_at)))
    report.pages_fetched += 1
    logger.info("arXiv bulk: %d-%d of %d", start, start + len(results), total)
    return total


def _complete_page(client: ArxivClient, url: str, size: int, *, first: bool) -> tuple[CachedResponse, Feed]:
    """The page at `url`, asked again (and never kept in the cache) while it holds fewer entries than
    it announces."""
    for _ in range(client.settings.num_retries + 1):
        try:
            page = client.fetch_page(url, expect_entries=not first, accept_empty=first)
            feed = parse_feed(page.body)
        except RequestFailed as exc:
            raise SourceError(f"{exc.problem}; run the same command again to resume", url=exc.url) from exc
        except FeedError as exc:
            feed = Feed(total_results=-1)
            logger.warning("arXiv: unreadable page (%s); asking again", exc)
        if feed.total_results is not None and feed.total_results >= 0 and not feed.partial(size):
            return page, feed
        if client.cache is not None:
            client.cache.drop(page.key)
        client.stats.retries += 1
    raise SourceError("arXiv kept answering partial pages; run the same command again to resume", url=url)


def _rows(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)

