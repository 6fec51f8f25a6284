"""Tables of papers: the title column found by its header (Title, Paper, Name, Method …), the other
columns read by their header or by what they hold ("CVPR, 2023", "Jul., 2023", authors, links)."""

from __future__ import annotations

from dataclasses import dataclass

from kg.ingest.entries import lead_spans
from kg.ingest.fields import Draft, is_generic, looks_like_venue, split_title, venue_and_date
from kg.ingest.inline import Line, is_badge
from kg.text import squash_spaces

_STRONG_TITLE = ("title", "paper", "papers", "paper title", "paper name", "publication")
_WEAK_TITLE = ("name", "model", "models", "work", "works", "method", "methods", "project")
_SHORT = ("method", "methods", "abbr", "abbreviation", "short name", "alias", "model", "name")
_EMPTY = ("", "-", "--", "~", "none", "n/a", "na", "/", "—", "–")


@dataclass(frozen=True)
class Columns:
    """Which column holds what; -1 when the table has no such column."""

    title: int
    strong: bool  # the title column is called Title or Paper (not only Name or Method)
    short: int = -1
    date: int = -1
    venue: int = -1
    venue_date: int = -1  # "Pub. & Date": "CVPR, 2023"
    authors: int = -1
    notes: int = -1


def columns_of(header: list[str]) -> Columns | None:
    """The roles of a table's columns, from its header; None when no column holds titles."""
    names = [squash_spaces(h).lower().strip(" .:") for h in header]
    title = _find(names, _STRONG_TITLE)
    strong = title >= 0
    if title < 0:
        title = _find(names, _WEAK_TITLE)
    if title < 0:
        return None
    others = [n if i != title else "" for i, n in enumerate(names)]
    short = _find(others, _SHORT)
    return Columns(
        title=title, strong=strong, short=short,
        date=_find(names, ("date", "time", "year", "published", "release"), exclude=("pub",)),
        venue=_find(names, ("conference", "venue", "journal", "pub", "published in", "publisher"),
                    exclude=("date",)),
        venue_date=next((i for i, n in enumerate(names) if ("pub" in n or "venue" in n or "conf" in n)
                         and ("date" in n or "year" in n)), -1),
        authors=_find(names, ("author", "authors")),
        notes=_find(names, ("abstract", "summary", "description", "note", "notes", "tl;dr", "tldr",
                            "comment", "comments", "highlight", "contribution", "remark")),
    )


def _find(names: list[str], wanted: tuple[str, ...], exclude: tuple[str, ...] = ()) -> int:
    """The column called by the first of `wanted` names (in their order), else one containing it."""
    for want in wanted:
        if want in names:
            return names.index(want)
    for i, name in enumerate(names):
        if any(w in name for w in wanted if len(w) > 3) and not any(x in name for x in exclude):
            return i
    return -1


def cell_text(cell: list[Line]) -> str:
    return squash_spaces(" ".join(line.text for line in cell))


def row_draft(cols: Columns, row: list[list[Line]]) -> Draft | None:
    """The paper a table row names, or None (an empty title, or no paper link under a Name column)."""
    if cols.title >= len(row):
        return None
    draft = Draft()
    for cell in row:
        for line in cell:
            draft.add_links([x for x in line.all_links if x.url.strip()])
    draft.title, venue = _title_of(row[cols.title])
    if not draft.title or (not cols.strong and not draft.paper_links):
        return None
    draft.short_name = _value(row, cols.short)
    draft.date = _value(row, cols.date)
    draft.venue = _value(row, cols.venue) or venue
    draft.authors = _value(row, cols.authors)
    if 0 <= cols.venue_date < len(row):
        v, d = venue_and_date(cell_text(row[cols.venue_date]))
        draft.venue, draft.date = draft.venue or v, draft.date or d
    _by_content(draft, row, cols)
    return draft


def _title_of(cell: list[Line]) -> tuple[str, str]:
    if not cell:
        return "", ""
    line = cell[0]
    spans = lead_spans(line)
    if spans and spans[0].link >= 0 and not is_badge(line, spans[0].link):
        text = line.links[spans[0].link].text
        if not is_generic(text):
            return split_title(text)
    text = cell_text(cell)
    return ("", "") if text.lower() in _EMPTY else split_title(text)


def _value(row: list[list[Line]], index: int) -> str:
    if not 0 <= index < len(row):
        return ""
    text = cell_text(row[index])
    return "" if text.lower() in _EMPTY else text


def _by_content(draft: Draft, row: list[list[Line]], cols: Columns) -> None:
    """Columns the header does not name: a venue with a year, or a date, read by what they hold."""
    named = {cols.title, cols.short, cols.date, cols.venue, cols.venue_date, cols.authors, cols.notes}
    for i, cell in enumerate(row):
        if i in named:
            continue
        text = cell_text(cell)
        if not text or text.lower() in _EMPTY or any(line.links for line in cell):
            continue
        venue, date = venue_and_date(text)
        if date and not draft.date:
            draft.date = date
        if venue and looks_like_venue(venue) and not draft.venue:
            draft.venue = venue


def row_note(cols: Columns, row: list[list[Line]]) -> str:
    """An abstract or note column's words (not "None", not a link)."""
    if not 0 <= cols.notes < len(row) or any(line.links for line in row[cols.notes]):
        return ""
    return _value(row, cols.notes)
