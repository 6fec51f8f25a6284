"""Known records: what we already know about papers and systems before reading the lists.

Sources, in order of trust for a field: data fetched from arXiv / Semantic Scholar (kept in the
snapshot), then the hand-gathered bibliographic facts (data/facts/), then curated systems
(data/systems.csv). The lists add only what they say (notes, short names, topics, links).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from kg.corpus import NameIndex, add_record_names, build_name_index
from kg.errors import BadInputError
from kg.ingest.mentions import GENERIC_NAMES
from kg.model import Paper, System
from kg.store import Store
from kg.text import clean_text, compact_key, match_key, slugify

# Fields of a paper that describe the work itself (bibliographic), as opposed to what lists say.
BIB_FIELDS = (
    "title", "arxiv_id", "version", "authors", "published", "published_precision", "updated",
    "primary_category", "categories", "venue", "doi", "journal_ref", "comment", "summary", "pdf_url",
    "citation_count", "influential_citation_count",
)
FETCHED_PREFIXES = ("arxiv:", "semantic_scholar:")
_PRECISION = {"day": "day", "month_from_arxiv_id": "month", "month": "month", "year": "year"}


_STOPWORDS = frozenset("a an and are as at by for from in into is of on or the to via with without".split())


def significant_words(name: str) -> frozenset[str]:
    """The words of a name that tell it apart: no stop words, numbers kept ("SAM 2" -> sam, 2)."""
    words = match_key(name).split()
    return frozenset(w for w in words if w not in _STOPWORDS and (len(w) > 1 or w.isdigit()))


def paper_id_for(arxiv_id: str | None, doi: str | None, title: str, *, unique: bool = False) -> str:
    """The id rule: arXiv id without version, else `doi:…`, else `title:<slug>`; `unique` adds a
    short hash of the normalised title (for a title whose slug another title already has)."""
    if arxiv_id:
        return arxiv_id
    if doi:
        return f"doi:{doi.lower()}"
    if unique:
        digest = hashlib.sha1(match_key(title).encode("utf-8")).hexdigest()[:8]
        return f"title:{slugify(title, max_len=50)}-{digest}"
    return f"title:{slugify(title)}"


def paper_from_fact(fact: dict[str, Any]) -> Paper:
    """A bibliographic fact record (data/facts/papers.jsonl) as a `Paper`, each field with its source."""
    source = f"facts:{fact.get('source_url') or 'data/facts/papers.jsonl'}"
    title = clean_text(fact.get("title") or "")
    paper = Paper(
        id=paper_id_for(fact.get("arxiv_id"), fact.get("doi"), title),
        title=title,
        arxiv_id=fact.get("arxiv_id"),
        authors=[clean_text(a) for a in fact.get("authors") or []],
        published=fact.get("published"),
        published_precision=_PRECISION.get(fact.get("published_precision") or "", None),
        primary_category=fact.get("primary_category"),
        venue=fact.get("venue"),
        doi=fact.get("doi"),
        aliases=[clean_text(a) for a in fact.get("aliases") or []],
    )
    for name in ("title", "arxiv_id", "authors", "published", "published_precision", "primary_category",
                 "venue", "doi", "aliases"):
        if getattr(paper, name):
            paper.provenance[name] = source
    return paper


def bibliographic_copy(paper: Paper) -> Paper:
    """The paper with only what describes the work: list-derived fields emptied."""
    keep = {name: getattr(paper, name) for name in BIB_FIELDS}
    prov = {k: v for k, v in paper.provenance.items() if k in BIB_FIELDS or k == "aliases"}
    aliases = list(paper.aliases) if prov.get("aliases", "").startswith("facts:") else []
    return Paper(id=paper.id, **keep, aliases=aliases, provenance=prov, fetched_at=paper.fetched_at)


def overlay_fetched(base: Paper, snapshot: Paper) -> Paper:
    """`base` with every field the snapshot holds from a fetch (arXiv, Semantic Scholar) on top."""
    merged = replace(base, provenance=dict(base.provenance))
    for name in BIB_FIELDS:
        source = snapshot.provenance.get(name, "")
        value = getattr(snapshot, name)
        if source.startswith(FETCHED_PREFIXES) and value not in (None, "", []):
            setattr(merged, name, value)
            merged.provenance[name] = source
    merged.fetched_at = snapshot.fetched_at or base.fetched_at
    return merged


@dataclass
class Known:
    """Known papers and systems by id, with the name index used to resolve list entries."""

    papers: dict[str, Paper] = field(default_factory=dict)
    systems: dict[str, System] = field(default_factory=dict)
    _names: NameIndex | None = None
    _word_sets: dict[frozenset[str], list[str]] | None = None
    _system_keys: tuple[int, set[str]] | None = None
    word_set_words: set[str] = field(default_factory=set)  # every word of some name in `word_sets`

    @property
    def names(self) -> NameIndex:
        if self._names is None:
            self._names = build_name_index([*self.papers.values(), *self.systems.values()])
        return self._names

    @property
    def word_sets(self) -> dict[frozenset[str], list[str]]:
        """Papers by the words of each short name (two to four words; generic ones left out)."""
        if self._word_sets is None:
            self._word_sets, self.word_set_words = {}, set()
            for paper in self.papers.values():
                self._add_word_sets(paper)
        return self._word_sets

    def _add_word_sets(self, paper: Paper) -> None:
        assert self._word_sets is not None  # noqa: S101 - built by the caller
        for name in (paper.title, *paper.aliases):
            words = significant_words(name)
            if 2 <= len(words) <= 4 and compact_key(name) not in GENERIC_NAMES:
                self._word_sets.setdefault(words, []).append(paper.id)
                self.word_set_words |= words

    def add_paper(self, paper: Paper) -> Paper:
        """A new paper, added to the name indexes as they stand (no rebuild: ingest stays linear)."""
        self.papers[paper.id] = paper
        if self._names is not None:
            add_record_names(self._names, paper)
        if self._word_sets is not None:
            self._add_word_sets(paper)
        return paper

    def system_alias_keys(self) -> set[str]:
        """The compact keys of every system's names (systems do not change during an ingest)."""
        if self._system_keys is None or self._system_keys[0] != len(self.systems):
            keys = {compact_key(a) for s in self.systems.values() for a in [s.name, *s.aliases]}
            self._system_keys = (len(self.systems), keys)
        return self._system_keys[1]


def load_known(store: Store) -> Known:
    """Facts, then the snapshot's fetched fields on top, then curated systems."""
    known = Known()
    for fact in store.load_facts("papers.jsonl"):
        known.papers[paper_from_fact(fact).id] = paper_from_fact(fact)
    for snap in store.load_papers():
        _merge_snapshot_record(known, snap)
    for system in load_curated_systems(store):
        known.systems[system.id] = system
    claimed = known.system_alias_keys()
    for paper in known.papers.values():  # an alias a release claims names the release, not the paper
        paper.aliases = [a for a in paper.aliases if compact_key(a) not in claimed]
    known._names = known._word_sets = None
    return known


def _merge_snapshot_record(known: Known, snap: Paper) -> None:
    new_id = snap.arxiv_id if snap.id.startswith(("title:", "doi:")) and snap.arxiv_id else snap.id
    base = known.papers.pop(snap.id, None) if new_id != snap.id else known.papers.get(snap.id)
    base = known.papers.get(new_id, base)
    if base is None:
        base = bibliographic_copy(snap)
    merged = overlay_fetched(base, snap)
    merged.id = new_id
    known.papers[new_id] = merged


def load_curated_systems(store: Store) -> list[System]:
    """data/systems.csv (ids and aliases we chose) joined with data/facts/systems.jsonl (the facts)."""
    path = store.root / "systems.csv"
    if not path.exists():
        return []
    facts = {f["name"]: f for f in store.load_facts("systems.jsonl")}
    systems = []
    with open(path, encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), 2):
            if not row.get("id", "").startswith("system:"):
                raise BadInputError("a system id must start with 'system:'", str(path), n)
            systems.append(_system_from_row(row, facts.get(row.get("facts_name") or "", {})))
    return systems


def _system_from_row(row: dict[str, str], fact: dict[str, Any]) -> System:
    source = f"facts:data/facts/systems.jsonl#{fact['name']}" if fact else "curated:data/systems.csv"
    date = fact.get("date") if fact else None
    system = System(
        id=row["id"], name=row["name"],
        aliases=[a.strip() for a in row.get("aliases", "").split("|") if a.strip()],
        organisation=fact.get("organisation") if fact else None,
        date=date if date and date[:4].isdigit() else None,
        date_precision=_date_precision(date),
        described_in=row.get("described_in") or None,
    )
    system.provenance["name"] = system.provenance["aliases"] = "curated:data/systems.csv"
    for name in ("organisation", "date", "date_precision"):
        if getattr(system, name):
            system.provenance[name] = source
    return system


def _date_precision(date: str | None) -> str | None:
    if not date or not date[:4].isdigit():
        return None
    return {4: "year", 7: "month", 10: "day"}.get(len(date))
