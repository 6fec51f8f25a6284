"""Citation counts and references from Semantic Scholar's Graph API, batched and cached.

One request per 500 papers: `POST {base}/graph/v1/paper/batch?fields=…` with the JSON body
`{"ids": ["ARXIV:2112.10752", "DOI:10.1145/3065386", …]}`. The answer is a JSON list aligned with the
ids, `null` where Semantic Scholar does not know the paper. We ask for `externalIds`, `citationCount`,
`influentialCitationCount` and `references.externalIds`; a reference whose arXiv id or DOI is a corpus
paper becomes a `cites` edge. An API key is optional (header `x-api-key`); the caller passes it in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests

from kg import __version__
from kg.errors import BadInputError, InvalidIdError, SourceError
from kg.ids import parse_arxiv_id
from kg.model import Edge, Paper
from kg.sources.cache import ResponseCache, request_key
from kg.sources.http import RequestFailed, RetryPolicy, SourceStats, Transport, utc_now

logger = logging.getLogger(__name__)

DEFAULT_S2_URL = "https://api.semanticscholar.org"
BATCH_PATH = "/graph/v1/paper/batch"
MAX_IDS_PER_BATCH = 500
S2_FIELDS = "externalIds,citationCount,influentialCitationCount,references.externalIds"


@dataclass
class S2Settings:
    """How we talk to Semantic Scholar.

    base_url: the API's root (a test server or a proxy in its place).
    batch_size: ids per batch request (the API takes at most 500).
    delay_seconds: the least time between two requests (1 request/s is the keyed rate).
    num_retries, timeout, backoff_base, backoff_max, max_retry_after: as for arXiv
        (429 and 5xx are retried, honouring `Retry-After`).
    """

    base_url: str = DEFAULT_S2_URL
    batch_size: int = MAX_IDS_PER_BATCH
    delay_seconds: float = 1.0
    num_retries: int = 5
    timeout: float = 60.0
    backoff_base: float = 5.0
    backoff_max: float = 120.0
    max_retry_after: float = 600.0
    user_agent: str = field(default_factory=lambda: f"paper-kg/{__version__} (reading-list knowledge graph)")

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= MAX_IDS_PER_BATCH:
            raise BadInputError(f"Semantic Scholar batch size must be 1..{MAX_IDS_PER_BATCH}")

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.num_retries, self.backoff_base, self.backoff_max, self.max_retry_after)


@dataclass
class S2Paper:
    """What Semantic Scholar answered for one of our ids (`entry` is None: unknown to it)."""

    request_id: str
    entry: dict[str, Any] | None
    fetched_at: str


def s2_id_for(paper: Paper) -> str | None:
    """The id we ask Semantic Scholar for: `ARXIV:<id>`, else `DOI:<doi>`, else None."""
    if paper.arxiv_id:
        return f"ARXIV:{paper.arxiv_id}"
    if paper.doi:
        return f"DOI:{paper.doi}"
    return None


def check_batch(body: bytes, n: int) -> str | None:
    """None if `body` is a JSON list of `n` objects or nulls, else what is wrong."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "truncated or invalid JSON"
    if not isinstance(data, list) or len(data) != n:
        return f"expected a list of {n} entries"
    if any(x is not None and not isinstance(x, dict) for x in data):
        return "entries must be objects or null"
    return None


class S2Client:
    """Batch lookups on the Graph API through our transport and cache."""

    def __init__(self, settings: S2Settings | None = None, *, api_key: str | None = None,
                 cache: ResponseCache | None = None, stats: SourceStats | None = None,
                 session: requests.Session | None = None):
        self.settings = s = settings or S2Settings()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = s.user_agent
        if api_key:
            self.session.headers["x-api-key"] = api_key
        self.cache = cache
        self.stats = stats if stats is not None else SourceStats()
        self.transport = Transport(self.session, name="Semantic Scholar", policy=s.policy,
                                   min_interval=s.delay_seconds, timeout=s.timeout, stats=self.stats)

    @property
    def batch_url(self) -> str:
        return self.settings.base_url.rstrip("/") + BATCH_PATH

    def _fetch_batch(self, ids: list[str]) -> tuple[list[dict[str, Any] | None], str]:
        if not 0 < len(ids) <= self.settings.batch_size:
            raise BadInputError(f"a batch holds 1..{self.settings.batch_size} ids, not {len(ids)}")
        request = json.dumps({"fields": S2_FIELDS, "ids": ids})
        key = request_key("batch", request)
        page = self.cache.get(key) if self.cache is not None else None
        if page is not None and check_batch(page.body, len(ids)) is None:
            self.stats.cache_hits += 1
            return json.loads(page.body), page.fetched_at
        check = lambda r: check_batch(r.content, len(ids))  # noqa: E731
        resp = self.transport.send("POST", self.batch_url, check=check, params={"fields": S2_FIELDS},
                                   json={"ids": ids})
        fetched_at = utc_now()
        if self.cache is not None:
            self.cache.put(key, resp.content, request=request, url=self.batch_url, fetched_at=fetched_at)
        return json.loads(resp.content), fetched_at

    def fetch_papers(self, ids: Iterable[str], progress: Callable[[int], object] | None = None
                     ) -> tuple[dict[str, S2Paper], SourceError | None]:
        """Every id looked up, `batch_size` at a time (sorted, so batches and cache keys are stable).

        Returns the answers and, when a batch failed after its last retry, a `SourceError` naming every
        id not fetched (the answers are then those of the batches before it). `OfflineError` is raised.
        """
        todo = sorted(set(ids))
        out: dict[str, S2Paper] = {}
        size = self.settings.batch_size
        for start in range(0, len(todo), size):
            batch = todo[start:start + size]
            try:
                entries, fetched_at = self._fetch_batch(batch)
            except RequestFailed as exc:
                return out, SourceError(exc.problem, ids=todo[start:], url=exc.url)
            out.update({i: S2Paper(i, e, fetched_at) for i, e in zip(batch, entries, strict=True)})
            if progress:
                progress(1)
        return out, None


def _corpus_keys(papers: Iterable[Paper]) -> dict[str, str]:
    """`ARXIV:<id>` and `DOI:<lower-case doi>` of every corpus paper -> its record id."""
    keys: dict[str, str] = {}
    for p in papers:
        if p.arxiv_id:
            keys[f"ARXIV:{p.arxiv_id}"] = p.id
        if p.doi:
            keys[f"DOI:{p.doi.lower()}"] = p.id
    return keys


def reference_keys(external_ids: dict[str, Any] | None) -> list[str]:
    """Our lookup keys for a reference's `externalIds` (its arXiv id without version, its DOI)."""
    if not external_ids:
        return []
    keys = []
    if external_ids.get("ArXiv"):
        try:
            keys.append(f"ARXIV:{parse_arxiv_id(str(external_ids['ArXiv'])).id}")
        except InvalidIdError:
            logger.debug("reference with an unusable arXiv id: %r", external_ids["ArXiv"])
    if external_ids.get("DOI"):
        keys.append(f"DOI:{str(external_ids['DOI']).lower()}")
    return keys


def build_cites_edges(answers: dict[str, S2Paper], papers: Iterable[Paper]) -> list[Edge]:
    """`cites` edges between corpus papers: `answers` maps a paper id to Semantic Scholar's answer."""
    keys = _corpus_keys(papers)
    edges: dict[tuple[str, str], Edge] = {}
    for source, answer in sorted(answers.items()):
        if answer.entry is None:
            continue
        for ref in answer.entry.get("references") or []:
            for key in reference_keys((ref or {}).get("externalIds")):
                target = keys.get(key)
                if target and target != source and (source, target) not in edges:
                    edges[(source, target)] = Edge(source, target, "cites",
                                                   f"semantic_scholar:{answer.fetched_at}")
    return list(edges.values())
