"""Finding papers on arXiv by title: k titles a query, fuzzy matching, ambiguity reported.

1. Titles are grouped k at a time (`ArxivSettings.titles_per_query`, default 5) and each group is one
   query, `ti:"<title 1>" OR ti:"<title 2>" OR …`, each phrase being the title's match key (lower
   case, no punctuation, ligatures and accents folded), with `max_results` = `title_results` (50).
2. Every title of the group is matched against the results by the one name matcher
   (`kg.names.pick_unique`): rapidfuzz `ratio` of the match keys, also against the part of the
   result's title before and after its first colon, so "TurboEdit" meets "TurboEdit: Instant
   text-based image editing" and a list title that lost a "Name:" prefix still matches. A score ≥ 90
   is a candidate.
3. One candidate, or a best one ahead of the next by ≥ 3 points: matched. Two or more within 3 points:
   ambiguous, reported with the candidates and never guessed (the two "TurboEdit" papers, 2408.08332
   and 2408.00735). None: the title gets one more query of its own, its words OR-ed
   (`ti:w1 OR ti:w2 …`), which survives a typo that defeats the phrase; still none: not found.

Empty pages: arXiv sometimes answers 200 with no entries. An empty phrase query is not retried, since
typos and papers that are not on arXiv empty it legitimately, and every title of the group then
gets its words query, which is what decides. A words query is practically never empty for real, so an
empty one is retried with backoff, and only an answer still empty after the last retry counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg.errors import SourceError
from kg.ids import parse_arxiv_id
from kg.names import MIN_CHARS, pick_unique
from kg.sources.http import RequestFailed
from kg.text import match_key

if TYPE_CHECKING:
    import arxiv

    from kg.sources.arxiv import ArxivClient

logger = logging.getLogger(__name__)

MAX_QUERY_WORDS = 12
_STOPWORDS = frozenset("a an and are as at by for from in into is of on or the to via with without".split())


@dataclass
class TitleMatch:
    """What arXiv had for one paper's title. status: matched | ambiguous | not_found."""

    paper_id: str
    title: str
    status: str = "not_found"
    result: arxiv.Result | None = None
    fetched_at: str | None = None
    candidates: list[tuple[str, str, float]] = field(default_factory=list)  # (arxiv id, title, score)

    @property
    def arxiv_id(self) -> str | None:
        return parse_arxiv_id(self.result.get_short_id()).id if self.result is not None else None


def build_title_query(titles: list[str]) -> str:
    """`ti:"…" OR ti:"…"` over the titles' match keys (no quotes or operators can leak in)."""
    return " OR ".join(f'ti:"{match_key(t)}"' for t in titles if match_key(t))


def build_words_query(title: str) -> str:
    """`ti:w1 OR ti:w2 …` over a title's significant words (the fallback for typos)."""
    words = [w for w in match_key(title).split() if len(w) > 2 and w not in _STOPWORDS]
    return " OR ".join(f"ti:{w}" for w in list(dict.fromkeys(words))[:MAX_QUERY_WORDS])


def match_title(title: str, results: list[arxiv.Result]) -> tuple[str, arxiv.Result | None,
                                                                  list[tuple[str, str, float]]]:
    """(status, the matched result or None, candidates best first) for one title among results,
    by the one name matcher (`kg.names.pick_unique`)."""
    by_id = {parse_arxiv_id(r.get_short_id()).id: r for r in results}
    pick = pick_unique(title, ((aid, r.title) for aid, r in by_id.items()))
    candidates = [(aid, by_id[aid].title, score) for aid, _, score in pick.candidates]
    if pick.choice is None:
        return pick.status, None, candidates
    return "matched", by_id[pick.choice], candidates[:1]


def _apply(matches: list[TitleMatch], results: list[arxiv.Result], fetched_at: str) -> None:
    for m in matches:
        m.status, m.result, m.candidates = match_title(m.title, results)
        m.fetched_at = fetched_at if m.result is not None else None


def _search(client: ArxivClient, query: str, n: int, paper_ids: list[str],
            retry_empty: bool) -> tuple[list[arxiv.Result], str]:
    try:
        return client.search(query, n, retry_empty=retry_empty)
    except RequestFailed as exc:
        raise SourceError(f"{exc.problem} (title query)", ids=paper_ids, url=exc.url) from exc


def resolve_titles(client: ArxivClient, wanted: dict[str, str],
                   progress: Callable[[int], object] | None = None) -> dict[str, TitleMatch]:
    """Look up papers by title: `wanted` maps a paper id to its title; the answer is keyed the same.

    `SourceError` (naming the paper ids not resolved yet) when a query fails after every retry.
    """
    k, n = client.settings.titles_per_query, client.settings.title_results
    matches = {pid: TitleMatch(pid, title) for pid, title in sorted(wanted.items()) if match_key(title)}
    todo = list(matches.values())
    for start in range(0, len(todo), k):
        group = todo[start:start + k]
        query = build_title_query([m.title for m in group])
        pending = [m.paper_id for m in todo[start:]]
        results, fetched_at = _search(client, query, n, pending, retry_empty=False)
        _apply(group, results, fetched_at)
        if progress:
            progress(1)
    retry = [m for m in todo if m.status == "not_found" and build_words_query(m.title)
             and len(match_key(m.title).replace(" ", "")) >= MIN_CHARS]
    for i, m in enumerate(retry):
        pending = [x.paper_id for x in retry[i:]]
        results, fetched_at = _search(client, build_words_query(m.title), n, pending, retry_empty=True)
        _apply([m], results, fetched_at)
    for m in todo:
        logger.info("title %r: %s %s", m.title, m.status, m.arxiv_id or "")
    return matches
