"""Plain-text rendering of records for the terminal (the app renders its own way)."""

from __future__ import annotations

import re
from typing import Any

from kg.corpus import Record
from kg.fields import field_rows
from kg.model import Paper
from kg.text import markdown_to_text, squash_spaces

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


def plain(text: str | None) -> str:
    """Markdown as one line of plain text (kg.text's one rule)."""
    return squash_spaces(markdown_to_text(text))


def graph_lines(context: dict[str, Any]) -> list[str]:
    """PageRank and direct lineage (from `kg.graph.build.record_context`) as lines of `render_record`."""
    lines = []
    if context.get("pagerank") is not None:
        lines.append(f"{'PageRank':<16} {context['pagerank']:.4f} (rank {context['rank']} of "
                     f"{context['records']}, over cites + lineage)")
    for key, title in (("parents", "Derives from"), ("children", "Derived by")):
        for row in context.get(key, []):
            lines.append(f"{title:<16} {row['label']} [{row['id']}] — {row['relation']}: "
                         f"“{plain(row['evidence'])}” ({row['evidence_ref']})")
    return lines


def render_record(record: Record, extra: list[str] | None = None) -> str:
    """A record with its fields, where each came from, graph context, the lists' notes and mentions."""
    lines = _field_lines(record) + (extra or [])
    if record.topics:
        lines.append("Topics:")
        lines += [f"  - {t}" for t in record.topics]
    if record.listings:
        lines.append("Listed in:")
        lines += [f"  - {x.file}:{x.line} ({x.how})" + (f" as {x.title!r}" if x.title else "")
                  for x in record.listings]
    if record.notes:
        lines.append("Notes from the lists:")
        lines += [f"  - {plain(n.text)}  ({n.file}:{n.line})" for n in record.notes]
    if record.mentions:
        lines.append(f"Mentioned ({len(record.mentions)}):")
        lines += [f"  - {m.sentence}  ({m.file}:{m.line}" + (f", in {m.by}" if m.by else "") + ")"
                  for m in record.mentions[:MAX_MENTIONS_SHOWN]]
        if (more := len(record.mentions) - MAX_MENTIONS_SHOWN) > 0:
            lines.append(f"  … and {more} more (all of them with --json)")
    return "\n".join(lines + source_lines(record))


def _header(record: Record) -> str:
    if isinstance(record, Paper):
        version = f" (version seen: {record.version})" if record.version else ""
        return f"{record.id}{version} · {record.status}"
    return f"{record.id} · model release · {record.status}"


def _field_lines(record: Record) -> list[str]:
    """Every field of kg.fields' table with its footnoted source, and the abstract (or how to get it)."""
    lines = [_header(record)]
    for f, shown, source in field_rows(record):
        lines.append(f"{f.label:<16} {shown}{_source(record, f.source) if source else ''}")
    if isinstance(record, Paper):
        abstract = plain(record.summary)
        shown = abstract + _source(record, "summary") if abstract else NOT_FETCHED
        lines.append(f"{'Abstract':<16} {shown}")
    return lines


def render_record_table(records: list[Record]) -> str:
    if not records:
        return "no records match"
    rows = [f"{r.id:<24} {r.year or '':<5} {r.label[:24]:<24} {r.title[:70]}" for r in records]
    return "\n".join(rows + [f"({len(records)} records)"])
