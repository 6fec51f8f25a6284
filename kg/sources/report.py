"""What a `kg fetch` run did: `FetchReport` and its entries, one frozen type per kind of finding.

Every entry's `to_dict` is its `--json` form (the keys' order included); `FetchReport.to_dict` is
the whole summary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from kg.sources.http import SourceStats


@dataclass(frozen=True)
class ResolvedTitle:
    """A paper known only by its title that arXiv matched uniquely; `arxiv_id` is the one it now has."""

    paper: str
    title: str
    arxiv_id: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"paper": self.paper, "title": self.title, "arxiv_id": self.arxiv_id}


@dataclass(frozen=True)
class TitleCandidate:
    """One arXiv paper a title could be, with the name matcher's score (0-100)."""

    arxiv_id: str
    title: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"arxiv_id": self.arxiv_id, "title": self.title, "score": round(self.score, 1)}


@dataclass(frozen=True)
class AmbiguousTitle:
    """A title that two or more arXiv papers match about equally well: reported, never guessed."""

    paper: str
    title: str
    candidates: tuple[TitleCandidate, ...]

    def to_dict(self) -> dict[str, Any]:
        # "status" and "arxiv_id" are constant (an ambiguous title has no match) but part of the --json form
        return {"paper": self.paper, "title": self.title, "status": "ambiguous", "arxiv_id": None,
                "candidates": [c.to_dict() for c in self.candidates]}


@dataclass(frozen=True)
class NotFound:
    """A paper arXiv had no (new) answer for: an unknown id, or a title that matches nothing or a
    paper already in the corpus. `title` is set for a title lookup, `arxiv_id` when an id is involved."""

    paper: str
    reason: str
    title: str | None = None
    arxiv_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"paper": self.paper}
        if self.title is not None:
            data["title"] = self.title
        if self.arxiv_id is not None:
            data["arxiv_id"] = self.arxiv_id
        data["reason"] = self.reason
        return data


class _AsDict:
    """An entry whose --json form is its fields, in order."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)  # type: ignore[call-overload]  # every subclass is a dataclass
        return data


@dataclass(frozen=True)
class TitleChange(_AsDict):
    """arXiv's title differs from ours (by match key); arXiv's was written, `ours_from` is where ours came
    from (its provenance, empty for a reading list's title)."""

    paper: str
    ours: str
    arxiv: str
    ours_from: str


@dataclass(frozen=True)
class FieldConflict(_AsDict):
    """A field we keep (`fetch.KEEP_EXISTING`, e.g. the DOI) for which arXiv has another value."""

    paper: str
    field: str
    ours: object
    arxiv: object


@dataclass(frozen=True)
class Failure:
    """Papers not fetched, and why (an invalid id, or a source that failed after its last retry)."""

    ids: tuple[str, ...]
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "error": self.error}


@dataclass(frozen=True)
class CitationSummary:
    """What `--citations` found: papers Semantic Scholar knows, those it does not, `cites` edges made."""

    papers: int
    unknown_to_semantic_scholar: tuple[str, ...]
    cites_edges: int

    def to_dict(self) -> dict[str, Any]:
        return {"papers": self.papers, "unknown_to_semantic_scholar": list(self.unknown_to_semantic_scholar),
                "cites_edges": self.cites_edges}


@dataclass
class FetchReport:
    """What a `kg fetch` run did; `to_dict` is its `--json` form."""

    stats: dict[str, SourceStats] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    resolved: list[ResolvedTitle] = field(default_factory=list)
    ambiguous: list[AmbiguousTitle] = field(default_factory=list)
    not_found: list[NotFound] = field(default_factory=list)
    title_changes: list[TitleChange] = field(default_factory=list)
    conflicts: list[FieldConflict] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    citations: CitationSummary | None = None  # None: citations were not fetched

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.stats.values())

    @property
    def cache_hits(self) -> int:
        return sum(s.cache_hits for s in self.stats.values())

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "cache_hits": self.cache_hits,
                "sources": {name: s.to_dict() for name, s in self.stats.items()},
                "new": self.new, "updated": self.updated, "unchanged": len(self.unchanged),
                "resolved_titles": [r.to_dict() for r in self.resolved],
                "ambiguous_titles": [a.to_dict() for a in self.ambiguous],
                "not_found": [n.to_dict() for n in self.not_found],
                "title_changes": [t.to_dict() for t in self.title_changes],
                "conflicts": [c.to_dict() for c in self.conflicts],
                "failures": [f.to_dict() for f in self.failures],
                "citations": self.citations.to_dict() if self.citations is not None else {}}
