"""arXiv metadata through the `arxiv` package: batched, spaced, retried, cached.

`ArxivClient` is a subclass of `arxiv.Client`. It keeps the package's URL building, Atom parsing and
`arxiv.Result` type and replaces one step, `_parse_feed` (fetch a page and parse it), with ours:
the raw page comes from the on-disk cache when it is there, else from `kg.sources.http.Transport`
(≥ `delay_seconds` between requests, backoff with jitter on 429/5xx/resets/timeouts, `Retry-After`
honoured, empty pages and truncated XML retried), and it is cached before it is parsed. So
`client.results(arxiv.Search(...))` works as with the plain package, with our guarantees.

Requests we make (see docs/fetch.md):
- ids: `id_list` with at most 100 ids and `max_results` = the batch size: one request a batch;
- titles: several `ti:"…"` phrases OR-ed in one query (`titles.py`).

`record_from_result` is the one function that turns an `arxiv.Result` into our record fields.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import arxiv
import requests
from arxiv import _feed  # the package's own Atom parser (arxiv>=4,<5; see pyproject)
from lxml import etree

from kg import __version__
from kg.errors import BadInputError, InvalidIdError, SourceError
from kg.ids import parse_arxiv_id
from kg.sources.cache import CachedResponse, ResponseCache, request_key
from kg.sources.http import RequestFailed, RetryPolicy, SourceStats, Transport, utc_now
from kg.text import clean_text, squash_spaces

logger = logging.getLogger(__name__)

DEFAULT_QUERY_URL_FORMAT = "https://export.arxiv.org/api/query?{}"
ARXIV_HOSTS = frozenset({"export.arxiv.org", "arxiv.org", "www.arxiv.org"})
ARXIV_MIN_DELAY = 3.0  # arXiv's terms of use: no more than one request every three seconds
MAX_IDS_PER_REQUEST = 100
_ATOM = "{http://www.w3.org/2005/Atom}"
_STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def default_user_agent() -> str:
    return f"paper-kg/{__version__} (reading-list knowledge graph; arxiv.py/{arxiv.__version__})"


def endpoint_format(url: str) -> str:
    """A `query_url_format` from an endpoint URL ("http://host/api/query" -> "http://host/api/query?{}")."""
    return url if "{}" in url else url.rstrip("?") + "?{}"


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

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_IDS_PER_REQUEST:
            raise BadInputError(f"arXiv page size must be 1..{MAX_IDS_PER_REQUEST}, not {self.page_size}")
        if self.titles_per_query < 1 or self.title_results < 1:
            raise BadInputError("titles_per_query and title_results must be at least 1")
        host = urlsplit(self.query_url_format.replace("{}", "")).hostname or ""
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


def check_feed(body: bytes, *, expect_entries: bool) -> str | None:
    """None if `body` is a complete Atom feed (with entries, when expected), else what is wrong."""
    try:
        root = etree.fromstring(body, parser=_STRICT_XML)
    except etree.XMLSyntaxError:
        return "truncated or invalid XML"
    if root is None or root.tag != f"{_ATOM}feed":
        return "not an Atom feed"
    if expect_entries and root.find(f"{_ATOM}entry") is None:
        return "unexpectedly empty page"
    return None


class ArxivClient(arxiv.Client):
    """`arxiv.Client` with our transport and cache in place of its fetch step."""

    def __init__(self, settings: ArxivSettings | None = None, *, cache: ResponseCache | None = None,
                 stats: SourceStats | None = None, session: requests.Session | None = None):
        self.settings = settings or ArxivSettings()
        s = self.settings
        super().__init__(page_size=s.page_size, delay_seconds=s.delay_seconds, num_retries=s.num_retries)
        self.query_url_format = s.query_url_format
        if session is not None:
            self._session = session
        self._session.headers["User-Agent"] = s.user_agent
        self.cache = cache
        self.stats = stats if stats is not None else SourceStats()
        self.transport = Transport(self._session, name="arXiv", policy=s.policy,
                                   min_interval=s.delay_seconds, timeout=s.timeout, stats=self.stats)

    # ---- the replaced step of arxiv.Client -------------------------------------------------
    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> _feed.ParsedFeed:
        """Fetch a page (cache, else network with our retries) and parse it with the package's parser."""
        page = self.fetch_page(url, expect_entries=not first_page, accept_empty=first_page)
        return _feed.parse(page.body)

    # ---- our requests ----------------------------------------------------------------------
    def fetch_page(self, url: str, *, expect_entries: bool, accept_empty: bool) -> CachedResponse:
        """The raw page for `url`. `RequestFailed` after the last retry.

        expect_entries: an empty page is retried (arXiv sometimes answers 200 with no entries).
        accept_empty: a page still empty after every retry is accepted (and cached) as the answer.
        """
        query = urlsplit(url).query or url
        key = request_key("query", query)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            if check_feed(hit.body, expect_entries=False) is None:
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

    def fetch_ids(self, ids: list[str]) -> IdBatch:
        """One `id_list` request for up to `page_size` version-less ids.

        An empty page is retried; after the last retry it means "not found" for a batch of one id
        (what arXiv answers for an id it does not know) and is an error for a larger batch.
        `SourceError` naming the ids when the request fails after its last retry.
        """
        if not 0 < len(ids) <= self.settings.page_size:
            raise BadInputError(f"an id batch holds 1..{self.settings.page_size} ids, not {len(ids)}")
        search = arxiv.Search(id_list=list(ids), max_results=len(ids))
        url = self._format_url(search, 0, len(ids))
        try:  # arXiv answers an empty page for one id it does not know, but for many it is failing
            page = self.fetch_page(url, expect_entries=True, accept_empty=len(ids) == 1)
        except RequestFailed as exc:
            raise SourceError(exc.problem, ids=list(ids), url=exc.url) from exc
        results = results_by_id(_feed.parse(page.body).results)
        missing = [i for i in ids if i not in results]
        return IdBatch(results, missing, page.fetched_at)

    def search(self, query: str, max_results: int, *,
               retry_empty: bool = True) -> tuple[list[arxiv.Result], str]:
        """One page of a search query (relevance order) and when it was fetched.

        retry_empty: an empty page is retried before it is believed (`RequestFailed` only for other
        failures: a page still empty after every retry is the answer).
        """
        search = arxiv.Search(query=query, max_results=max_results)
        url = self._format_url(search, 0, max_results)
        page = self.fetch_page(url, expect_entries=retry_empty, accept_empty=True)
        return [r for r in _feed.parse(page.body).results if _is_paper(r)], page.fetched_at


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


def parse_page(body: bytes) -> tuple[list[arxiv.Result], int]:
    """The papers of one Atom page and the query's `opensearch:totalResults` (bulk paging: bulk.py)."""
    feed = _feed.parse(body)
    return [r for r in feed.results if _is_paper(r)], int(feed.header.total_results)
