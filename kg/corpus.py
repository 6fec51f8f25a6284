"""The loaded corpus: papers, systems and stored edges, with name resolution.

Names resolve the same way everywhere (CLI, app, mention extraction): an arXiv id with or without
version, a record id, an alias or short name ("LDM", "SD v1.5", "stablediffusion"), a title, and
finally a near match by the one name matcher (kg/names.py). An ambiguous name is reported with its
candidates, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from kg.errors import AmbiguousError, BadInputError, InvalidIdError, NotFoundError
from kg.ids import looks_like_arxiv_id, parse_arxiv_id
from kg.model import Edge, Paper, System
from kg.names import Pick, pick_unique, score_key
from kg.store import Store
from kg.text import compact_key, match_key, topic_matches

Record = Paper | System

_NUMBER = re.compile(r"\d+")
_STOPWORDS = frozenset("a an and are as at by for from in into is of on or the to via with without".split())
MAX_BLOCK = 200  # candidates gathered per query word (the rarest words are tried first)
SMALL_BLOCK = 50  # a query word this rare decides the candidates alone


@dataclass
class NameIndex:
    """Exact keys (ids, aliases, titles) and, for near matches, every name by its words.

    Near matches are scored by the one name matcher (`kg.names.pick_unique`) against the records that
    share one of the query's two rarest words (or, for a one-word query, the first letters of a name
    with spaces removed), so a lookup costs the same in a corpus of a hundred or of a million names.
    """

    exact: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # record id -> match key -> name
    by_word: dict[str, dict[str, None]] = field(default_factory=dict)  # word or prefix -> record ids

    def add(self, record_id: str, name: str, *, alias: bool) -> None:
        if not name or not name.strip():
            return
        keys = {compact_key(name)} if alias else {compact_key(name), match_key(name)}
        for key in keys:
            if key:
                self.exact.setdefault(key, set()).add(record_id)
        mk = match_key(name)
        if not mk:
            return
        self.names.setdefault(record_id, {}).setdefault(mk, name)
        for word in _block_keys(mk):
            self.by_word.setdefault(word, {})[record_id] = None

    def lookup_exact(self, name: str) -> set[str]:
        return set(self.exact.get(compact_key(name), set()))

    def candidates(self, name: str) -> list[tuple[str, str]]:
        """(record id, name) of every name that could match `name` closely."""
        key = match_key(name)
        numbers = ["#" + n for n in _NUMBER.findall(key)]
        if any(n not in self.by_word for n in numbers):
            return []  # a number no name has: nothing can match (numbers must agree)
        words = sorted((w for w in [*numbers, *_query_keys(key)] if w in self.by_word),
                       key=lambda w: len(self.by_word[w]))[:2]
        if words and len(self.by_word[words[0]]) <= SMALL_BLOCK:
            words = words[:1]
        ids = dict.fromkeys(rid for w in words for rid in islice(self.by_word[w], MAX_BLOCK))
        return [(rid, shown) for rid in ids for shown in self.names[rid].values()]

    def pick(self, name: str) -> Pick[str]:
        return pick_unique(name, self.candidates(name))

    def closest(self, name: str, limit: int = 3, floor: float = 50.0) -> list[tuple[str, float, str]]:
        """(record id, score, name) of the best-scoring records, for "did you mean" messages."""
        key = match_key(name)
        if not key:
            return []
        best: dict[str, tuple[float, str]] = {}
        for rid, names in self.names.items():
            for shown in names.values():
                score = score_key(key, shown)
                rank = (score, -len(shown))  # on a tie, the shorter name ("Imagine Flash")
                if score >= floor and (rid not in best or (best[rid][0], -len(best[rid][1])) < rank):
                    best[rid] = (score, shown)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [(rid, score, shown) for rid, (score, shown) in ranked]


def _block_keys(key: str) -> set[str]:
    words = {w for w in key.split() if w not in _STOPWORDS}
    compact = key.replace(" ", "")
    numbers = {"#" + n for n in _NUMBER.findall(key)}
    return words | numbers | ({"^" + compact[:4]} if len(compact) >= 4 else set())


def _query_keys(key: str) -> list[str]:
    if " " not in key:
        return [key, "^" + key[:4]]
    return [w for w in key.split() if w not in _STOPWORDS]


def build_name_index(records: Iterable[Record]) -> NameIndex:
    index = NameIndex()
    for r in records:
        add_record_names(index, r)
    return index


def add_record_names(index: NameIndex, r: Record) -> None:
    index.add(r.id, r.id, alias=True)
    if isinstance(r, Paper) and r.arxiv_id:
        index.add(r.id, r.arxiv_id, alias=True)
    index.add(r.id, r.title, alias=False)
    for alias in r.aliases:
        index.add(r.id, alias, alias=True)
    if isinstance(r, Paper):  # every title a list wrote for it: `kg show "<title as written>"`
        for title in sorted({x.title for x in r.listings if x.title and x.how == "listed"} - {r.title}):
            index.add(r.id, title, alias=False)


class Corpus:
    """Papers and systems by id, stored edges, and name resolution over both."""

    def __init__(self, papers: Iterable[Paper], systems: Iterable[System] = (), edges: Iterable[Edge] = ()):
        self.papers: dict[str, Paper] = {p.id: p for p in papers}
        self.systems: dict[str, System] = {s.id: s for s in systems}
        self.edges: list[Edge] = list(edges)
        self._names: NameIndex | None = None

    @classmethod
    def load(cls, store: Store | None = None) -> Corpus:
        store = store or Store.at()
        return cls(store.load_papers(), store.load_systems(), store.load_edges())

    @classmethod
    def require(cls, store: Store) -> Corpus:
        """The snapshot, or a clear error saying how to make one (for commands that need a corpus)."""
        if not store.papers_path.exists():
            raise BadInputError("no corpus snapshot yet: run `kg ingest` first", str(store.papers_path))
        return cls.load(store)

    # ---- access ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.papers) + len(self.systems)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self.papers or record_id in self.systems

    def get(self, record_id: str) -> Record:
        record = self.papers.get(record_id) or self.systems.get(record_id)
        if record is None:
            raise NotFoundError(record_id, self.suggest(record_id))
        return record

    def records(self) -> Iterator[Record]:
        yield from self.papers.values()
        yield from self.systems.values()

    def listed_papers(self) -> list[Paper]:
        """Papers the reading lists list or mention (not ones kept only from an earlier list)."""
        return [p for p in self.papers.values() if p.status != "unlisted"]

    # ---- names -------------------------------------------------------------------------
    @property
    def names(self) -> NameIndex:
        if self._names is None:
            self._names = build_name_index(self.records())
        return self._names

    def resolve(self, name: str, *, fuzzy: bool = True) -> str:
        """The id of the one record `name` denotes; NotFoundError or AmbiguousError otherwise.
        `fuzzy=False`: exact names only (id, arXiv id, short name, title), no close title match."""
        name = name.strip()
        if not name:
            raise NotFoundError(name)
        if looks_like_arxiv_id(name):
            try:
                aid = parse_arxiv_id(name)
            except InvalidIdError:
                raise
            if aid.id in self:
                return aid.id
            raise NotFoundError(name, self.suggest(name))
        if name in self:
            return name
        ids = self.names.lookup_exact(name)
        if len(ids) == 1:
            return ids.pop()
        if len(ids) > 1:
            raise AmbiguousError(name, [f"{rid} ({_title_of(self.get(rid))})" for rid in sorted(ids)])
        if not fuzzy:
            raise NotFoundError(name, self.suggest(name))
        return self._resolve_fuzzy(name)

    def _resolve_fuzzy(self, name: str) -> str:
        pick = self.names.pick(name)
        if pick.choice is not None:
            return pick.choice
        if pick.candidates:
            raise AmbiguousError(name, [f"{rid} ({shown})" for rid, shown, _ in pick.candidates])
        raise NotFoundError(name, self.suggest(name))

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Display strings of the closest records, for "did you mean" messages."""
        return [f"{rid} ({shown})" for rid, _, shown in self.names.closest(name, limit=limit)]


def _title_of(record: Record) -> str:
    return record.title if isinstance(record, Paper) and record.title else record.label


def parse_year_range(text: str | None) -> tuple[int | None, int | None]:
    """"2022" -> (2022, 2022); "2021:2024" -> (2021, 2024); "2021:" and ":2020" are open-ended."""
    if not text:
        return None, None
    lo, sep, hi = text.strip().partition(":")
    try:
        start = int(lo) if lo.strip() else None
        end = int(hi) if hi.strip() else None if sep else start
    except ValueError as exc:
        raise BadInputError(f"invalid year range {text!r}: use 2022, 2021:2024, 2021: or :2020") from exc
    if start is not None and end is not None and start > end:
        raise BadInputError(f"invalid year range {text!r}: {start} is after {end}")
    return start, end


def filter_records(corpus: Corpus, *, topic: str | None = None,
                   years: tuple[int | None, int | None] = (None, None), status: str | None = None,
                   kind: str = "all") -> list[Record]:
    """Records matching every given filter, sorted by date then id."""
    wanted_status = {"listed", "mentioned"} if status is None else None if status == "all" else {status}
    out = []
    for record in corpus.records():
        if kind != "all" and record.kind != kind:
            continue
        if wanted_status is not None and record.status not in wanted_status:
            continue
        if topic and not any(topic_matches(topic, t) for t in record.topics):
            continue
        if not _in_years(record.year, years):
            continue
        out.append(record)
    return sorted(out, key=lambda r: (r.published or "9999", r.id))


def _in_years(year: int | None, years: tuple[int | None, int | None]) -> bool:
    start, end = years
    if start is None and end is None:
        return True
    if year is None:
        return False
    return (start is None or year >= start) and (end is None or year <= end)
