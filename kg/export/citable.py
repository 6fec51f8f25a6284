"""One citable view of a Paper or System, built once and shared by every output format.

What kind of work it is (preprint, conference paper, journal article, software release) and the
facts a bibliography needs are decided here, so BibTeX, BibLaTeX, RIS and CSL-JSON cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.errors import InvalidIdError
from kg.export.names import Name, split_name
from kg.export.venues import Venue, parse_venue
from kg.ids import parse_arxiv_id
from kg.model import Paper, System
from kg.text import squash_spaces

Record = Paper | System

_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass
class Citable:
    """The facts of one bibliography entry; a field we lack stays empty."""

    key: str
    record_id: str
    kind: str  # preprint | conference | journal | software | other
    title: str
    authors: list[Name] = field(default_factory=list)
    organisation: str | None = None  # the author of a system (a model release)
    date: str | None = None  # first submission / release: "2021-12-20", "2021-12" or "2021"
    year: int | None = None  # the year to cite: the venue's year when it says one, else the date's
    eprint: str | None = None  # arXiv id without version and without "arXiv:"
    eprint_class: str | None = None  # the primary arXiv category
    categories: list[str] = field(default_factory=list)
    doi: str | None = None
    url: str | None = None
    venue: Venue | None = None

    @property
    def date_parts(self) -> list[int]:
        return [int(x) for x in self.date.split("-")] if self.date else []

    @property
    def note(self) -> str | None:
        return self.venue.note if self.venue else None


def clean_date(value: str | None) -> str | None:
    """An ISO date, year-month or year; a looser value ("2022+") keeps only its year."""
    if not value:
        return None
    value = value.strip()
    if _ISO_DATE.match(value):
        return value
    m = re.match(r"^(\d{4})\b", value)
    return m[1] if m else None


def build_citable(record: Record, key: str) -> Citable:
    """The citable view of a paper or a system under `key`."""
    if isinstance(record, System):
        return _citable_system(record, key)
    return _citable_paper(record, key)


def _citable_paper(paper: Paper, key: str) -> Citable:
    venue = parse_venue(paper.venue)
    eprint = _eprint(paper.arxiv_id)
    kind = venue.kind if venue and venue.kind != "unknown" else "preprint" if eprint else "other"
    date = clean_date(paper.published)
    return Citable(
        key=key,
        record_id=paper.id,
        kind=kind,
        title=squash_spaces(paper.title),
        authors=[split_name(a) for a in paper.authors],
        date=date,
        year=(venue.year if venue and venue.year else None) or (int(date[:4]) if date else None),
        eprint=eprint,
        eprint_class=paper.primary_category,
        categories=list(paper.categories),
        doi=clean_doi(paper.doi),
        url=_paper_url(paper),
        venue=venue,
    )


def _citable_system(system: System, key: str) -> Citable:
    date = clean_date(system.date)
    return Citable(
        key=key,
        record_id=system.id,
        kind="software",
        title=squash_spaces(system.name),
        organisation=system.organisation,
        date=date,
        year=int(date[:4]) if date else None,
        url=system.urls[0] if system.urls else None,
    )


def clean_doi(value: str | None) -> str | None:
    """A bare DOI ("10.1109/…") from "doi:10.1109/…" or "https://doi.org/10.1109/…"."""
    if not value:
        return None
    m = re.search(r"10\.\d{4,9}/\S+", value)
    return m[0] if m else None


def _eprint(arxiv_id: str | None) -> str | None:
    """The arXiv id as BibTeX's `eprint` wants it: no version, no "arXiv:" prefix."""
    if not arxiv_id:
        return None
    try:
        return parse_arxiv_id(arxiv_id).id
    except InvalidIdError:
        return None


def _paper_url(paper: Paper) -> str | None:
    """The arXiv abstract page for an arXiv paper, else the first link the reading lists give."""
    eprint = _eprint(paper.arxiv_id)
    if eprint:
        return f"https://arxiv.org/abs/{eprint}"
    if clean_doi(paper.doi):
        return f"https://doi.org/{clean_doi(paper.doi)}"
    return paper.urls[0] if paper.urls else None
