"""Plain-text rendering of records for the terminal (the app renders its own way)."""

from __future__ import annotations

import re
from typing import Any

from kg.corpus import Record
from kg.model import Paper, System

MISSING = "—"
NOT_FETCHED = "(not fetched yet: run `kg fetch` when online)"
MAX_MENTIONS_SHOWN = 10  # `kg show` lists this many mentions and says how many more there are

# C0 and C1 control characters (but tab and newline) and DEL: a terminal would obey them (colours,
# cursor moves, a retitled window), so text from the corpus shows them as visible escapes instead.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` safe to print on a terminal: every control character shown as `\\xNN`."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text)


def _source(record: Record, name: str) -> str:
    """A footnote mark ("[1]") for the field's source; `source_lines` lists the sources once."""
    source = record.provenance.get(name)
    if not source:
        return ""
    order = list(dict.fromkeys(record.provenance.values()))
    return f"  [{order.index(source) + 1}]"


def source_lines(record: Record) -> list[str]:
    order = list(dict.fromkeys(record.provenance.values()))
    return ["Sources:"] + [f"  [{i}] {source}" for i, source in enumerate(order, 1)] if order else []


def _line(label: str, value: object, record: Record, name: str) -> str:
    shown = value if value not in (None, "", []) else MISSING
    if isinstance(shown, list):
        shown = ", ".join(map(str, shown))
    return f"{label:<12} {shown}{_source(record, name) if shown != MISSING else ''}"


def graph_lines(context: dict[str, Any]) -> list[str]:
    """PageRank and direct lineage (from `kg.graph.build.record_context`) as lines of `render_record`."""
    lines = []
    if context.get("pagerank") is not None:
        lines.append(f"{'PageRank':<12} {context['pagerank']:.4f} (rank {context['rank']} of "
                     f"{context['records']}, over cites + lineage)")
    for key, title in (("parents", "Derives from"), ("children", "Derived by")):
        for row in context.get(key, []):
            lines.append(f"{title:<12} {row['label']} [{row['id']}] — {row['relation']}: "
                         f"“{row['evidence']}” ({row['evidence_ref']})")
    return lines


def render_record(record: Record, extra: list[str] | None = None) -> str:
    """A record with its fields, where each came from, graph context, the lists' notes and mentions."""
    lines = _render_paper(record) if isinstance(record, Paper) else _render_system(record)
    lines += extra or []
    if record.topics:
        lines.append("Topics:")
        lines += [f"  - {t}" for t in record.topics]
    if record.listings:
        lines.append("Listed in:")
        lines += [f"  - {x.file}:{x.line} ({x.how})" + (f" as {x.title!r}" if x.title else "")
                  for x in record.listings]
    if record.notes:
        lines.append("Notes from the lists:")
        lines += [f"  - {n.text}  ({n.file}:{n.line})" for n in record.notes]
    if record.mentions:
        lines.append(f"Mentioned ({len(record.mentions)}):")
        lines += [f"  - {m.sentence}  ({m.file}:{m.line}" + (f", in {m.by}" if m.by else "") + ")"
                  for m in record.mentions[:MAX_MENTIONS_SHOWN]]
        if (more := len(record.mentions) - MAX_MENTIONS_SHOWN) > 0:
            lines.append(f"  … and {more} more (all of them with --json)")
    return "\n".join(lines + source_lines(record))


def _render_paper(p: Paper) -> list[str]:
    version = f" (version seen: {p.version})" if p.version else ""
    return [
        f"{p.id}{version} · {p.status}",
        _line("Title", p.title, p, "title"),
        _line("Short names", p.aliases, p, "aliases"),
        _line("Authors", p.authors, p, "authors"),
        _line("Published", f"{p.published} ({p.published_precision})" if p.published else None, p,
              "published"),
        _line("Category", p.categories or p.primary_category, p, "primary_category"),
        _line("Venue", p.venue, p, "venue"),
        _line("DOI", p.doi, p, "doi"),
        _line("Citations", p.citation_count, p, "citation_count"),
        _line("Abstract", p.summary, p, "summary") if p.summary else f"{'Abstract':<12} {NOT_FETCHED}",
        _line("Links", p.urls, p, "urls"),
    ]


def _render_system(s: System) -> list[str]:
    return [
        f"{s.id} · model release · {s.status}",
        _line("Name", s.name, s, "name"),
        _line("Short names", s.aliases, s, "aliases"),
        _line("Organisation", s.organisation, s, "organisation"),
        _line("Date", s.date, s, "date"),
        _line("Paper", s.described_in, s, "described_in"),
        _line("Links", s.urls, s, "urls"),
    ]


def render_record_table(records: list[Record]) -> str:
    if not records:
        return "no records match"
    rows = [f"{r.id:<24} {r.year or '':<5} {r.label[:24]:<24} {r.title[:70]}" for r in records]
    return "\n".join(rows + [f"({len(records)} records)"])
