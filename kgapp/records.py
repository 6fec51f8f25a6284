"""The paper page's and the results' view model: metadata with provenance, notes, listings and
mentions as rows, a record's byline, and a hit's match in plain words.

Rows are plain dicts of strings (kgapp.links turns them into escaped HTML tables). A field we do not
have is shown as MISSING, never filled in; a missing abstract says why in one line. Markdown from
the lists is shown as plain text (kg.text.markdown_to_text, the one rule).
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.corpus import Corpus, Record
from kg.fields import MISSING, field_rows
from kg.model import System
from kg.text import markdown_to_text, squash_spaces
from kgapp.escape import esc_md

ABSTRACT_MISSING = "no abstract yet — `kg fetch` fills it in when online"
NO_ARXIV_ABSTRACT = "no abstract: no arXiv id to fetch one from"
MODE_WORDS = {"hybrid": "both", "dense": "by meaning", "bm25": "by words"}


def metadata_rows(record: Record) -> list[dict[str, str]]:
    """One row per field of kg.fields' table: its value and where the value came from."""
    return [{"field": f.label, "value": shown, "source": source or MISSING}
            for f, shown, source in field_rows(record)]


def abstract_text(record: Record) -> str | None:
    """The fetched abstract as plain text, or None."""
    summary = markdown_to_text(getattr(record, "summary", None))
    return summary or None


def abstract_missing(record: Record) -> str | None:
    """Why a record shows no abstract, in one line; None for a model release (it never has one)."""
    if isinstance(record, System) or abstract_text(record):
        return None
    return ABSTRACT_MISSING if getattr(record, "arxiv_id", None) else NO_ARXIV_ABSTRACT


def plain(text: str | None) -> str:
    """Markdown from the lists as one line of plain text (kg.text's one rule); unescaped."""
    return squash_spaces(markdown_to_text(text))


def note_rows(record: Record) -> list[dict[str, str]]:
    return [{"note": plain(n.text), "section": n.section or MISSING, "where": f"{n.file}:{n.line}"}
            for n in record.notes]


def listing_rows(record: Record) -> list[dict[str, str]]:
    return [{"where": f"{x.file}:{x.line}", "how": x.how, "as written": x.title or x.short_name or MISSING,
             "section": x.section or MISSING} for x in record.listings]


def mention_rows(record: Record, corpus: Corpus) -> list[dict[str, str]]:
    """Sentences of the lists that name this record, with whose note they are in."""
    rows = []
    for m in record.mentions:
        by = corpus.get(m.by).label if m.by and m.by in corpus else (m.by or "the list's prose")
        rows.append({"sentence": plain(m.sentence), "as": m.alias, "in": by, "in_id": m.by or "",
                     "where": f"{m.file}:{m.line}"})
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


def byline(record: Record, max_authors: int = 4) -> str:
    """Authors (the first few, "et al." after), year and venue on one line; plain text, unescaped."""
    parts = []
    authors = list(getattr(record, "authors", []) or [])
    if authors:
        parts.append(", ".join(authors[:max_authors]) + (" et al." if len(authors) > max_authors else ""))
    elif isinstance(record, System) and record.organisation:
        parts.append(record.organisation)
    if record.year:
        parts.append(str(record.year))
    venue = getattr(record, "venue", None)
    parts.append(venue if venue else "model release" if isinstance(record, System) else "")
    return " · ".join(p for p in parts if p)


def field_label(field: str | None) -> str:
    """Where a hit's sentence came from, in words: "the title", "the abstract", "a note (file:line)"."""
    if not field:
        return MISSING
    if field in ("title", "abstract"):
        return f"the {field}"
    return f"a note ({field})"


def score_details(hit: object) -> str:
    """A hit's match in plain words, e.g. "matched both · by meaning: #2 (0.39) · by words: #2 (1.44)"."""
    mode = str(getattr(hit, "mode", ""))
    parts = [f"matched {MODE_WORDS.get(mode, mode)}"]
    for name in ("dense", "bm25"):
        score, rank = getattr(hit, f"{name}_score", None), getattr(hit, f"{name}_rank", None)
        if score is not None:
            parts.append(f"{MODE_WORDS[name]}: " + (f"#{rank} " if rank else "") + f"({score:.3g})")
    parts.append(f"fused score {getattr(hit, 'score', 0.0):.3g}" if mode == "hybrid" else "")
    return " · ".join(p for p in parts if p)
