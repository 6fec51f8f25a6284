"""The loaded corpus: papers, systems and stored edges, with name resolution.

Names resolve the same way everywhere (CLI, app, mention extraction): an arXiv id with or without
version, a record id, an alias or short name ("LDM", "SD v1.5", "stablediffusion"), a title, and
finally a fuzzy title match. An ambiguous name is reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from kg.errors import AmbiguousError, BadInputError, InvalidIdError, NotFoundError
from kg.ids import looks_like_arxiv_id, parse_arxiv_id
from kg.model import Edge, Paper, System
from kg.store import Store
from kg.text import compact_key, match_key, topic_matches

Record = Paper | System

FUZZY_THRESHOLD = 90.0  # rapidfuzz score (0-100) a title must reach to count as a match
FUZZY_MARGIN = 3.0  # a runner-up this close to the best makes the match ambiguous


@dataclass
class NameIndex:
    """Exact keys (ids, aliases, titles) and a fuzzy fallback over titles and aliases."""

    exact: dict[str, set[str]] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)  # match key of a name -> a display name
    owners: dict[str, set[str]] = field(default_factory=dict)  # match key -> record ids

    def add(self, record_id: str, name: str, *, alias: bool) -> None:
        if not name or not name.strip():
            return
        keys = {compact_key(name)} if alias else {compact_key(name), match_key(name)}
        for key in keys:
            if key:
                self.exact.setdefault(key, set()).add(record_id)
        mk = match_key(name)
        if mk:
            self.choices.setdefault(mk, name)
            self.owners.setdefault(mk, set()).add(record_id)

    def lookup_exact(self, name: str) -> set[str]:
        return set(self.exact.get(compact_key(name), set()))

    def fuzzy(self, name: str, limit: int = 5, cutoff: float = 0.0) -> list[tuple[str, float, str]]:
        """(record id, score, matched name), best first, one row per record."""
        key = match_key(name)
        if not key or not self.choices:
            return []
        rows = process.extract(key, list(self.choices), scorer=fuzz.WRatio, limit=limit * 3,
                               score_cutoff=cutoff)
        seen: dict[str, tuple[str, float, str]] = {}
        for choice, score, _ in rows:
            for rid in sorted(self.owners[choice]):
                if rid not in seen or seen[rid][1] < score:
                    seen[rid] = (rid, float(score), self.choices[choice])
        return sorted(seen.values(), key=lambda r: (-r[1], r[0]))[:limit]


def build_name_index(records: Iterable[Record]) -> NameIndex:
    index = NameIndex()
    for r in records:
        index.add(r.id, r.id, alias=True)
        if isinstance(r, Paper) and r.arxiv_id:
            index.add(r.id, r.arxiv_id, alias=True)
        index.add(r.id, r.title, alias=False)
        for alias in r.aliases:
            index.add(r.id, alias, alias=True)
    return index


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
            raise AmbiguousError(name, sorted(ids))
        if not fuzzy:
            raise NotFoundError(name, self.suggest(name))
        return self._resolve_fuzzy(name)

    def _resolve_fuzzy(self, name: str) -> str:
        rows = self.names.fuzzy(name, limit=5)
        if rows and rows[0][1] >= FUZZY_THRESHOLD and len(match_key(name)) >= 8:
            close = [r for r in rows if rows[0][1] - r[1] < FUZZY_MARGIN]
            if len(close) == 1:
                return rows[0][0]
            raise AmbiguousError(name, [f"{r[0]} ({r[2]})" for r in close])
        raise NotFoundError(name, self.suggest(name))

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Display strings of the closest records, for "did you mean" messages."""
        return [f"{rid} ({shown})" for rid, _, shown in self.names.fuzzy(name, limit=limit, cutoff=50)]


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
