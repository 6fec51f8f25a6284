"""The project's record types: one `Paper` and one `System` shape, shared by every module.

Records are plain dataclasses that round-trip through JSON (`to_dict` / `from_dict`) with every
field always present, so the snapshot files are stable byte for byte. `provenance` maps a field
name to where its value came from: `facts:<url>`, `arxiv:<fetched-at>`, `list:<file>:<line>`,
`semantic_scholar:<fetched-at>`. A field with no source stays empty: we never invent metadata.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Note:
    """A reading list's words about a paper (a summary paragraph, a table's abstract cell …)."""

    text: str
    file: str
    line: int
    section: str = ""


@dataclass
class Listing:
    """One place a reading list lists or names a record, as written there."""

    file: str
    line: int
    title: str = ""
    short_name: str = ""
    section: str = ""
    urls: list[str] = field(default_factory=list)
    date: str = ""
    authors: str = ""
    venue: str = ""
    how: str = "listed"  # listed (an entry of its own) | named (a bare name) | mentioned (inside a note)


@dataclass
class Mention:
    """A record named inside some text: `by` is the record whose note it is (None: the list's prose)."""

    file: str
    line: int
    alias: str
    sentence: str
    by: str | None = None


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Paper:
    """A paper, keyed by its arXiv id without version (`2112.10752`), else `doi:…`, else `title:<slug>`."""

    id: str
    title: str = ""
    arxiv_id: str | None = None
    version: str | None = None  # the newest version seen ("v3")
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # "2021-12-20", "2021-12" or "2021"
    published_precision: str | None = None  # day | month | year
    updated: str | None = None
    primary_category: str | None = None
    categories: list[str] = field(default_factory=list)
    venue: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    summary: str | None = None  # the arXiv abstract: empty until `kg fetch`
    pdf_url: str | None = None
    aliases: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    status: str = "listed"  # listed | mentioned | unlisted
    topics: list[str] = field(default_factory=list)  # section paths, "Diffusion model" or "A > B"
    notes: list[Note] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    citation_count: int | None = None
    influential_citation_count: int | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    fetched_at: str | None = None
    kind: str = "paper"

    @property
    def year(self) -> int | None:
        return int(self.published[:4]) if self.published else None

    @property
    def short_name(self) -> str:
        return self.aliases[0] if self.aliases else ""

    @property
    def label(self) -> str:
        """A short human label: the first alias, else the title."""
        return self.short_name or self.title or self.id

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Paper:
        p = _from_dict(cls, data)
        p.notes = [_from_dict(Note, n) for n in data.get("notes", [])]
        p.listings = [_from_dict(Listing, x) for x in data.get("listings", [])]
        p.mentions = [_from_dict(Mention, m) for m in data.get("mentions", [])]
        return p


@dataclass
class System:
    """A model release that is not a paper (SD v1.5, stable-diffusion-2-1, FLUX.1): id `system:<slug>`."""

    id: str
    name: str
    aliases: list[str] = field(default_factory=list)
    organisation: str | None = None
    date: str | None = None
    date_precision: str | None = None
    described_in: str | None = None  # the paper id that describes the release, when one does
    urls: list[str] = field(default_factory=list)
    status: str = "listed"
    topics: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    provenance: dict[str, str] = field(default_factory=dict)
    kind: str = "system"

    @property
    def title(self) -> str:
        return self.name

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date and self.date[:4].isdigit() else None

    @property
    def published(self) -> str | None:
        return self.date

    @property
    def label(self) -> str:
        return self.aliases[0] if self.aliases else self.name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> System:
        s = _from_dict(cls, data)
        s.notes = [_from_dict(Note, n) for n in data.get("notes", [])]
        s.listings = [_from_dict(Listing, x) for x in data.get("listings", [])]
        s.mentions = [_from_dict(Mention, m) for m in data.get("mentions", [])]
        return s


@dataclass
class Edge:
    """A stored edge (`cites` from Semantic Scholar; other kinds are derived when the graph is built)."""

    source: str
    target: str
    kind: str
    provenance: str
    relation: str | None = None
    evidence: str | None = None
    evidence_ref: str | None = None  # file:line of the evidence
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edge:
        return _from_dict(cls, data)
