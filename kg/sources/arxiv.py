"""arXiv metadata: batched, spaced, retried, cached, with negative answers only when confirmed.

`ArxivClient` talks to the API itself: it builds the query URLs, gets each page from the on-disk
cache when it is there, else from `kg.sources.http.Transport` (≥ `delay_seconds` between requests,
backoff with jitter on 429/5xx/resets/timeouts, `Retry-After` honoured, empty pages and truncated
XML retried), caches it, and reads it with our own Atom parser (`kg.sources.atom`). The `arxiv`
package is used through its public API only: its `Result` type and version.

Requests we make (see docs/fetch.md):
- ids: `id_list` with at most 100 ids and `max_results` = the batch size: one request a batch;
- titles: several `ti:"…"` phrases OR-ed in one query (`titles.py`).

Never a "not found" by accident: a page with fewer entries than its `opensearch:totalResults`
announces is partial: it is not cached, and the ids it lacks are asked again. An id missing from a
complete answer is asked alone, and only an explicit empty answer for that id alone means "arXiv does
not know it"; that answer is re-checked once it is older than `not_found_max_age_days`.

`record_from_result` is the one function that turns an `arxiv.Result` into our record fields.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import arxiv
import requests

from kg import __version__
from kg.errors import BadInputError, InvalidIdError, SourceError
from kg.ids import parse_arxiv_id
from kg.sources.atom import Feed, FeedError, check_feed, parse_feed
from kg.sources.cache import CachedResponse, ResponseCache, request_key
from kg.sources.http import RequestFailed, RetryPolicy, SourceStats, Transport, utc_now
from kg.text import clean_text, squash_spaces

logger = logging.getLogger(__name__)

__all__ = ["ArxivClient", "ArxivSettings", "IdBatch", "check_feed", "record_from_result", "results_by_id"]

DEFAULT_QUERY_URL_FORMAT = "https://export.arxiv.org/api/query?{}"
ARXIV_HOSTS = frozenset({"export.arxiv.org", "arxiv.org", "www.arxiv.org"})
ARXIV_MIN_DELAY = 3.0  # arXiv's terms of use: no more than one request every three seconds
MAX_IDS_PER_REQUEST = 100


def default_user_agent() -> str:
    return f"paper-kg/{__version__} (reading-list knowledge graph; arxiv.py/{arxiv.__version__})"


def endpoint_format(url: str) -> str:
    """A `query_url_format` from an endpoint URL ("http://host/api/query" -> "http://host/api/query?{}")."""
    return url if "{}" in url else url.rstrip("?") + "?{}"


def endpoint_host(url_format: str) -> str:
    """The host of an endpoint's `query_url_format`; BadInputError when it is not an http(s) URL."""
    try:
        parts = urlsplit(url_format.replace("{}", ""))
        parts.port  # noqa: B018 - raises ValueError on a malformed host or port
    except ValueError as exc:
        raise BadInputError(f"not a usable URL ({exc})", url_format) from exc
    if parts.scheme not in ("http", "https") or not parts.netloc or "{}" not in url_format:
        raise BadInputError("the arXiv endpoint must be an http(s) URL, e.g. https://export.arxiv.org/api/query",
                            url_format.replace("?{}", ""))
    return parts.hostname or ""


@dataclass
class ArxivSettings:
    """How we talk to the arXiv API. Every default is safe for the real service.

    query_url_format: the endpoint, `{}` standing for the query string (the package's
        `Client.query_url_format`); point it at a mirror or a test server.
    delay_seconds: the least time between two requests. arXiv asks for 3 s; a smaller value is
        raised to 3 s when the endpoint is arXiv itself.
    num_retries: tries after the first, on 429/5xx, resets, timeouts, empty pages and bad XML.
    timeout: seconds to wait for an answer before trying again.
    page_size: ids per `id_list` request (at most 100); also the request's `max_results`.
    titles_per_query: k, the number of `ti:"…"` phrases OR-ed into one title query.
    title_results: `max_results` of a title query: the candidates matched against its k titles.
    backoff_base, backoff_max, max_retry_after: the backoff (see `kg.sources.http.RetryPolicy`).
    user_agent: names the tool (`paper-kg/<version>`), as arXiv asks of API clients.
    not_found_max_age_days: a cached "arXiv does not know this id" older than this is asked again.
    """

    query_url_format: str = DEFAULT_QUERY_URL_FORMAT
    delay_seconds: float = ARXIV_MIN_DELAY
    num_retries: int = 4
    timeout: float = 30.0
    page_size: int = MAX_IDS_PER_REQUEST
    titles_per_query: int = 5
    title_results: int = 50
    backoff_base: float = 5.0
    backoff_max: float = 120.0
    max_retry_after: float = 600.0
    user_agent: str = field(default_factory=default_user_agent)
    not_found_max_age_days: float = 30.0

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_IDS_PER_REQUEST:
            raise BadInputError(f"arXiv page size must be 1..{MAX_IDS_PER_REQUEST}, not {self.page_size}")
        if self.titles_per_query < 1 or self.title_results < 1:
            raise BadInputError("titles_per_query and title_results must be at least 1")
        host = endpoint_host(self.query_url_format)
        if host in ARXIV_HOSTS and self.delay_seconds < ARXIV_MIN_DELAY:
            logger.warning("arXiv asks for %.0f s between requests; using %.0f s, not %.2f s",
                           ARXIV_MIN_DELAY, ARXIV_MIN_DELAY, self.delay_seconds)
            self.delay_seconds = ARXIV_MIN_DELAY

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.num_retries, self.backoff_base, self.backoff_max, self.max_retry_after)


@dataclass
class IdBatch:
    """The answer to one `id_list` request: results by version-less id, and the ids arXiv did not know."""

    results: dict[str, arxiv.Result]
    missing: list[str]
    fetched_at: str


def query_url(url_format: str, *, query: str = "", ids: list[str] | None = None, max_results: int) -> str:
    """The API URL of one page (parameters in the order the `arxiv` package uses, so cached pages of
    earlier versions are found again)."""
    args = {"search_query": query, "id_list": ",".join(ids or []), "sortBy": "relevance",
            "sortOrder": "descending", "start": "0", "max_results": str(max_results)}
    return url_format.format(urlencode(args))


class ArxivClient:
    """Our client of the arXiv API: transport, cache and parser (see the module doc)."""

    def __init__(self, settings: ArxivSettings | None = None, *, cache: ResponseCache | None = None,
                 stats: SourceStats | None = None, session: requests.Session | None = None):
        self.settings = settings or ArxivSettings()
        s = self.settings
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = s.user_agent
        self.cache = cache
        self.stats = stats if stats is not None else SourceStats()
        self.transport = Transport(self.session, name="arXiv", policy=s.policy,
                                   min_interval=s.delay_seconds, timeout=s.timeout, stats=self.stats)

    # ---- pages -----------------------------------------------------------------------------
    def fetch_page(self, url: str, *, expect_entries: bool, accept_empty: bool,
                   max_age: timedelta | None = None) -> CachedResponse:
        """The raw page for `url`. `RequestFailed` after the last retry.

        expect_entries: an empty page is retried (arXiv sometimes answers 200 with no entries).
        accept_empty: a page still empty after every retry is accepted (and cached) as the answer.
        max_age: a cached page older than this is fetched again.
        """
        query = urlsplit(url).query or url
        key = request_key("query", query)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            if check_feed(hit.body, expect_entries=False) is None and _young(hit, max_age):
                self.stats.cache_hits += 1
                return hit
        body = self._download(url, expect_entries, accept_empty)
        fetched_at = utc_now()
        if self.cache is None:
            return CachedResponse(key, body, fetched_at, False)
        return self.cache.put(key, body, request=query, url=url, fetched_at=fetched_at)

    def _download(self, url: str, expect_entries: bool, accept_empty: bool) -> bytes:
        check = lambda r: check_feed(r.content, expect_entries=expect_entries)  # noqa: E731
        try:
            headers = {"Accept": "application/atom+xml"}
            return self.transport.send("GET", url, check=check, headers=headers).content
        except RequestFailed as exc:
            resp = exc.response
            if (accept_empty and resp is not None and resp.status_code == 200
                    and check_feed(resp.content, expect_entries=False) is None):
                logger.info("arXiv: page still empty after every retry; taking it as the answer")
                return resp.content
            raise

    def _feed(self, page: CachedResponse, url: str) -> Feed:
        try:
            return parse_feed(page.body)
        except FeedError as exc:  # checked before it was cached: only a changed file gets here
            if self.cache is not None:
                self.cache.drop(page.key)
            raise SourceError(f"arXiv answered an unreadable page ({exc})", url=url) from exc

    # ---- ids -------------------------------------------------------------------------------
    def fetch_ids(self, ids: list[str]) -> IdBatch:
        """The answer for up to `page_size` version-less ids (see the module doc: a partial page is
        asked again, an absent id is confirmed alone before it is called missing).

        `SourceError` naming the ids when a request fails after its last retry."""
        if not 0 < len(ids) <= self.settings.page_size:
            raise BadInputError(f"an id batch holds 1..{self.settings.page_size} ids, not {len(ids)}")
        results, fetched_at = self._complete_answer(list(ids))
        missing: list[str] = []
        for aid in [i for i in ids if i not in results]:
            if len(ids) == 1:
                missing.append(aid)
                continue
            alone, _ = self._complete_answer([aid])
            results.update(alone)
            if aid not in alone:
                missing.append(aid)
        return IdBatch(results, missing, fetched_at)

    def _complete_answer(self, ids: list[str]) -> tuple[dict[str, arxiv.Result], str]:
        """Results for `ids`, asking again for the ids a partial page lacked; SourceError when pages
        stay partial after every retry."""
        results: dict[str, arxiv.Result] = {}
        pending, fetched_at = list(ids), utc_now()
        for _ in range(self.settings.num_retries + 1):
            feed, fetched_at = self._id_page(pending)
            asked = len(pending)
            results.update({k: v for k, v in results_by_id(feed.results).items() if k in pending})
            pending = [i for i in pending if i not in results]
            if not pending or not _incomplete(feed, asked):
                return results, fetched_at
            self.stats.retries += 1
            logger.warning("arXiv: partial page (%d of %s entries); asking again for %d ids",
                           len(feed.results), feed.total_results, len(pending))
        raise SourceError("arXiv kept answering partial pages", ids=pending)

    def _id_page(self, ids: list[str]) -> tuple[Feed, str]:
        url = query_url(self.settings.query_url_format, ids=ids, max_results=len(ids))
        max_age = timedelta(days=self.settings.not_found_max_age_days) if len(ids) == 1 else None
        try:  # arXiv answers an empty page for one id it does not know, but for many it is failing
            page = self.fetch_page(url, expect_entries=len(ids) > 1, accept_empty=len(ids) == 1,
                                   max_age=max_age)
        except RequestFailed as exc:
            raise SourceError(exc.problem, ids=list(ids), url=exc.url) from exc
        feed = self._feed(page, url)
        if _incomplete(feed, len(ids)) and self.cache is not None:
            self.cache.drop(page.key)  # never kept: the next try asks the server
        return feed, page.fetched_at

    # ---- titles ----------------------------------------------------------------------------
    def search(self, query: str, max_results: int, *,
               retry_empty: bool = True) -> tuple[list[arxiv.Result], str]:
        """One page of a search query (relevance order) and when it was fetched.

        retry_empty: an empty page is retried before it is believed (`RequestFailed` only for other
        failures: a page still empty after every retry is the answer).
        """
        url = query_url(self.settings.query_url_format, query=query, max_results=max_results)
        page = self.fetch_page(url, expect_entries=retry_empty, accept_empty=True)
        return [r for r in self._feed(page, url).results if _is_paper(r)], page.fetched_at


def _incomplete(feed: Feed, asked: int) -> bool:
    """A page that is not a full answer: fewer entries than announced, or empty without saying
    `totalResults` 0 (only an explicit empty answer means "not found")."""
    return feed.partial(asked) or (not feed.results and feed.total_results != 0)


def _young(hit: CachedResponse, max_age: timedelta | None) -> bool:
    """True unless `max_age` is given and the cached page is older (or its date is unreadable)."""
    if max_age is None:
        return True
    try:
        when = datetime.fromisoformat(hit.fetched_at.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return datetime.now(UTC) - when <= max_age


def _is_paper(result: arxiv.Result) -> bool:
    """False for the error entries arXiv sends in place of a paper (`…/api/errors#…`)."""
    if "/abs/" in result.entry_id:
        return True
    logger.warning("arXiv returned an error entry: %s (%s)", result.entry_id, squash_spaces(result.summary))
    return False


def results_by_id(results: list[arxiv.Result]) -> dict[str, arxiv.Result]:
    """Results keyed by version-less arXiv id (error entries and unparseable ids left out)."""
    out: dict[str, arxiv.Result] = {}
    for result in results:
        if not _is_paper(result):
            continue
        try:
            out[parse_arxiv_id(result.get_short_id()).id] = result
        except InvalidIdError:
            logger.warning("arXiv returned an entry with an unexpected id: %s", result.entry_id)
    return out


def _clean(text: str | None) -> str:
    return squash_spaces(clean_text(text)) if text else ""


def _day(when: datetime | None) -> str | None:
    if when is None or when.year <= 1:
        return None
    return when.date().isoformat()


def record_from_result(result: arxiv.Result) -> dict[str, Any]:
    """The one mapping of an `arxiv.Result` to `kg.model.Paper` fields.

    Empty values are None or [] (never ""), so a merge can tell "arXiv has nothing" from a value.
    """
    aid = parse_arxiv_id(result.get_short_id())
    published = _day(result.published)
    return {
        "arxiv_id": aid.id,
        "version": aid.version,
        "title": _clean(result.title) or None,
        "authors": [name for name in (_clean(a.name) for a in result.authors) if name],
        "published": published,
        "published_precision": "day" if published else None,
        "updated": _day(result.updated),
        "summary": _clean(result.summary) or None,
        "comment": _clean(result.comment) or None,
        "journal_ref": _clean(result.journal_ref) or None,
        "doi": (result.doi or "").strip() or None,
        "primary_category": result.primary_category or None,
        "categories": list(dict.fromkeys(c for c in result.categories if c)),
        "pdf_url": result.pdf_url or None,
    }

