"""The paper page's view model: metadata with provenance, notes, listings and mentions as rows.

Rows are plain dicts of strings (for `st.dataframe`, which shows cell text as text). A field we do
not have is shown as MISSING, never filled in; a missing abstract says how to get it.
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.corpus import Corpus, Record
from kg.model import Paper, System
from kgapp.escape import esc_md

MISSING = "—"
ABSTRACT_MISSING = "abstract not fetched yet (run `kg fetch` when online)"

# (label, attribute, provenance key) for the metadata table of a paper and of a model release.
_PAPER_FIELDS = [
    ("Title", "title", "title"),
    ("Short names", "aliases", "aliases"),
    ("Authors", "authors", "authors"),
    ("Published", "published", "published"),
    ("arXiv id", "arxiv_id", "arxiv_id"),
    ("Version seen", "version", "version"),
    ("Categories", "categories", "categories"),
    ("Primary category", "primary_category", "primary_category"),
    ("Venue", "venue", "venue"),
    ("DOI", "doi", "doi"),
    ("Journal ref", "journal_ref", "journal_ref"),
    ("Citations", "citation_count", "citation_count"),
    ("Links", "urls", "urls"),
]
_SYSTEM_FIELDS = [
    ("Name", "name", "name"),
    ("Short names", "aliases", "aliases"),
    ("Organisation", "organisation", "organisation"),
    ("Date", "date", "date"),
    ("Described in", "described_in", "described_in"),
    ("Links", "urls", "urls"),
]


def show_value(value: object) -> str:
    """A field value as display text: lists joined, empty values as MISSING."""
    if value is None or value == "" or value == []:
        return MISSING
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def metadata_rows(record: Record) -> list[dict[str, str]]:
    """One row per field: its value and where the value came from (empty fields say so)."""
    spec = _PAPER_FIELDS if isinstance(record, Paper) else _SYSTEM_FIELDS
    rows = []
    for label, attr, key in spec:
        value = show_value(getattr(record, attr, None))
        if label == "Published" and isinstance(record, Paper) and record.published_precision:
            value = f"{value} ({record.published_precision})"
        source = record.provenance.get(key, "") if value != MISSING else ""
        rows.append({"field": label, "value": value, "source": source or MISSING})
    return rows


def abstract_text(record: Record) -> str | None:
    """The fetched abstract, or None (the page then shows ABSTRACT_MISSING)."""
    summary = getattr(record, "summary", None)
    return summary if summary and summary.strip() else None


def note_rows(record: Record) -> list[dict[str, str]]:
    return [{"note": n.text, "section": n.section or MISSING, "where": f"{n.file}:{n.line}"}
            for n in record.notes]


def listing_rows(record: Record) -> list[dict[str, str]]:
    return [{"where": f"{x.file}:{x.line}", "how": x.how, "as written": x.title or x.short_name or MISSING,
             "section": x.section or MISSING} for x in record.listings]


def mention_rows(record: Record, corpus: Corpus) -> list[dict[str, str]]:
    """Sentences of the lists that name this record, with whose note they are in."""
    rows = []
    for m in record.mentions:
        by = corpus.get(m.by).label if m.by and m.by in corpus else (m.by or "the list's prose")
        rows.append({"sentence": m.sentence, "as": m.alias, "in": by, "where": f"{m.file}:{m.line}"})
    return rows


def describe(record: Record) -> str:
    """A one-line label for pickers: short name, title and year (plain text, unescaped)."""
    year = f" ({record.year})" if record.year else ""
    title = record.title or record.id
    if record.label and record.label != title:
        return f"{record.label} — {title}{year}"
    return f"{title}{year}"


def record_choices(corpus: Corpus, records: Iterable[Record] | None = None) -> dict[str, str]:
    """id -> label for a picker, ordered by date (undated last) then id."""
    chosen = list(records) if records is not None else list(corpus.records())
    chosen.sort(key=lambda r: (r.published or "9999", r.id))
    return {r.id: describe(r) for r in chosen}


def top_topic(record: Record) -> str:
    """The first reading-list section of a record, top level only ("Image Generation")."""
    return record.topics[0].split(" > ")[0] if record.topics else "(no topic)"


def badges(record: Record) -> list[tuple[str, str]]:
    """(kind, text) badges for a result: year, topics (top level), venue; plain text, unescaped."""
    out: list[tuple[str, str]] = []
    if record.year:
        out.append(("year", str(record.year)))
    for topic in dict.fromkeys(t.split(" > ")[0] for t in record.topics):
        out.append(("topic", topic))
    venue = getattr(record, "venue", None)
    if venue:
        out.append(("venue", venue))
    if isinstance(record, System):
        out.append(("kind", "model release"))
    return out


BADGE_COLOURS = {"year": "blue", "topic": "green", "venue": "orange", "kind": "violet"}


def badges_md(record: Record) -> str:
    """The badges as Streamlit Markdown (`:blue-badge[2023] …`), every label escaped."""
    return " ".join(f":{BADGE_COLOURS[kind]}-badge[{esc_md(text)}]" for kind, text in badges(record))


def abstract_counts(corpus: Corpus) -> tuple[int, int]:
    """(papers with an abstract, papers): the sidebar says how much `kg fetch` has filled in."""
    papers = list(corpus.papers.values())
    return sum(1 for p in papers if abstract_text(p)), len(papers)


def field_label(field: str | None) -> str:
    """Where a hit's sentence came from, in words: "the title", "the abstract", "a note (file:line)"."""
    if not field:
        return "—"
    if field in ("title", "abstract"):
        return f"the {field}"
    return f"a note ({field})"


def score_caption(hit: object) -> str:
    """A hit's scores per component, e.g. "hybrid 0.0161 · dense 0.388 (#2) · bm25 1.44 (#2)"."""
    parts = [f"{getattr(hit, 'mode', '')} {getattr(hit, 'score', 0.0):.4g}"]
    for name in ("dense", "bm25"):
        score, rank = getattr(hit, f"{name}_score", None), getattr(hit, f"{name}_rank", None)
        if score is not None:
            parts.append(f"{name} {score:.3g}" + (f" (#{rank})" if rank else ""))
    return " · ".join(parts)
