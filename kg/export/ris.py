"""RIS records, written by rispy.

Types: `UNPB` for an arXiv preprint, `CPAPER` for a conference paper (RIS's `CONF` means a whole
proceedings volume; Zotero and EndNote both read `CPAPER` as a paper in one), `JOUR` for a journal
article, `COMP` for a model release, `GEN` for anything else. The venue goes to `T2`, the arXiv id
to `AN` (accession number) with `DB  - arXiv`, categories to `KW`; `DO`, `UR`, `PY` and `DA` as usual.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import rispy

from kg.export.citable import Citable

_TYPES = {"preprint": "UNPB", "conference": "CPAPER", "journal": "JOUR", "software": "COMP", "other": "GEN"}


def build_ris_entry(c: Citable) -> dict[str, Any]:
    """The rispy dict of one citable; only fields we have."""
    entry: dict[str, Any] = {"type_of_reference": _TYPES[c.kind], "id": c.key, "title": c.title}
    if c.organisation:
        entry["authors"] = [c.organisation]
    elif c.authors:
        entry["authors"] = [n.inverted for n in c.authors]
    if c.year:
        entry["year"] = str(c.year)
    venue_year = c.venue.year if c.venue and c.kind in ("conference", "journal") else None
    if c.date and not venue_year:  # a venue's year is the date to cite, not the arXiv submission's
        entry["date"] = c.date.replace("-", "/")
    entry.update(_venue_fields(c))
    if c.eprint:
        entry.update(name_of_database="arXiv", accession_number=f"arXiv:{c.eprint}")
    if c.categories or c.eprint_class:
        entry["keywords"] = list(dict.fromkeys([x for x in [c.eprint_class, *c.categories] if x]))
    if c.doi:
        entry["doi"] = c.doi
    if c.url:
        entry["urls"] = [c.url]
    return {k: v for k, v in entry.items() if v}


def _venue_fields(c: Citable) -> dict[str, Any]:
    v = c.venue
    if c.kind in ("conference", "journal") and v:
        return {"secondary_title": v.name, "tertiary_title": v.series, "volume": v.volume,
                "number": v.number, "start_page": v.first_page, "end_page": v.last_page,
                "notes": [v.note] if v.note else None}
    if c.kind == "preprint":
        return {"publisher": "arXiv", "notes": [v.raw] if v else None}
    return {"notes": [v.raw] if v else None}


class PlainRisWriter(rispy.RisWriter):  # type: ignore[misc]  # rispy ships no types
    """rispy's writer without the "1.", "2." line it puts before each record (no RIS tag; some
    importers choke on it)."""

    def set_header(self, count: int) -> str:
        return ""


def render_ris(citables: Iterable[Citable]) -> str:
    """A RIS file: one record per citable, in the order given."""
    entries = [build_ris_entry(c) for c in citables]
    return rispy.dumps(entries, implementation=PlainRisWriter) if entries else ""
