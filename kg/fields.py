"""The fields of a record that people read, in order: one table for the CLI (`kg show`) and the app.

Each field has a label, how to read its value from the record, and the provenance key that says
where the value came from (`record.provenance[source]`). `kg.commands.render` (terminal) and
`kgapp.records` (the app's metadata table) both walk `fields_of(record)`, so they show the same
fields under the same names; a new field is added here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.model import Paper, System

Record = Paper | System
MISSING = "—"


@dataclass(frozen=True)
class Field:
    label: str
    attr: str
    source: str  # the provenance key of the value

    def value(self, record: Record) -> object:
        """The raw value (None, "" or [] when the record has none); a date carries its precision."""
        value = getattr(record, self.attr, None)
        precision = getattr(record, "published_precision", None) if self.attr == "published" else None
        return f"{value} ({precision})" if value and precision else value


PAPER_FIELDS = (
    Field("Title", "title", "title"),
    Field("Short names", "aliases", "aliases"),
    Field("Authors", "authors", "authors"),
    Field("Published", "published", "published"),
    Field("arXiv id", "arxiv_id", "arxiv_id"),
    Field("Version seen", "version", "version"),
    Field("Categories", "categories", "categories"),
    Field("Primary category", "primary_category", "primary_category"),
    Field("Venue", "venue", "venue"),
    Field("DOI", "doi", "doi"),
    Field("Journal ref", "journal_ref", "journal_ref"),
    Field("Citations", "citation_count", "citation_count"),
    Field("Links", "urls", "urls"),
)
SYSTEM_FIELDS = (
    Field("Name", "name", "name"),
    Field("Short names", "aliases", "aliases"),
    Field("Organisation", "organisation", "organisation"),
    Field("Date", "date", "date"),
    Field("Described in", "described_in", "described_in"),
    Field("Links", "urls", "urls"),
)


def fields_of(record: Record) -> tuple[Field, ...]:
    return PAPER_FIELDS if isinstance(record, Paper) else SYSTEM_FIELDS


def show_value(value: object) -> str:
    """A field value as display text: lists joined, empty values as MISSING."""
    if value is None or value == "" or value == [] or value == ():
        return MISSING
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def field_rows(record: Record) -> list[tuple[Field, str, str]]:
    """(field, shown value, its source or "") for every field of the record, in order."""
    rows = []
    for f in fields_of(record):
        shown = show_value(f.value(record))
        rows.append((f, shown, record.provenance.get(f.source, "") if shown != MISSING else ""))
    return rows
