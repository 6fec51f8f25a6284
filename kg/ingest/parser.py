"""Parse hand-written Markdown reading lists into `ListedEntry` records, on markdown-it's tokens.

Structure comes first (kg/ingest/blocks.py): headings give the section path (the topics), and each
list item, table row or paragraph that carries a paper is one entry. The conventions that say which
block names a paper and what its words mean are small functions in kg/ingest/entries.py (blocks),
kg/ingest/tables.py (table rows) and kg/ingest/fields.py (titles, authors, venues, dates). Text that
belongs to no entry is kept as prose for mention extraction; arXiv links inside notes and prose are
kept with the line they stand on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import BadInputError
from kg.ids import parse_arxiv_id
from kg.ingest.blocks import markdown_parser, read_blocks, sections
from kg.ingest.listed import MAX_NOTE_CHARS, ListedEntry, NoteLine
from kg.ingest.markdown import Link
from kg.ingest.walker import Walker
from kg.text import clean_text

MAX_LIST_BYTES = 8 * 1024 * 1024  # a reading list larger than this is refused, not parsed
__all__ = ["MAX_LIST_BYTES", "MAX_NOTE_CHARS", "ListedEntry", "NoteLine", "NoteLink", "ParsedList",
           "parse_lines", "parse_reading_list", "read_list_lines"]


@dataclass(frozen=True)
class NoteLink:
    """An arXiv link inside a note or the list's prose: the entry it belongs to (index into
    `entries`, -1 for the list's own prose), the line it stands on and that line's plain text."""

    link: Link
    owner: int
    line: int
    text: str


@dataclass
class ParsedList:
    """A parsed reading list: its entries and the prose lines that belong to no entry."""

    file: str
    entries: list[ListedEntry] = field(default_factory=list)
    prose: list[NoteLine] = field(default_factory=list)
    linked_in_notes: list[NoteLink] = field(default_factory=list)

    def linked_arxiv_ids(self) -> set[str]:
        """Distinct arXiv ids (without version) the list links anywhere; invalid ones are skipped."""
        links = [x for e in self.entries for x in e.paper_links + e.links]
        links += [x.link for x in self.linked_in_notes]
        ids = set()
        for link in links:
            for raw in link.arxiv_raw_ids:
                try:
                    ids.add(parse_arxiv_id(raw).id)
                except BadInputError:
                    continue
        return ids


# ---- reading the file --------------------------------------------------------------------------
def read_list_lines(path: Path, display: str, max_bytes: int = MAX_LIST_BYTES) -> list[str]:
    """The file's lines, cleaned; BadInputError for a missing, empty, binary, huge or non-UTF-8 file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadInputError(f"cannot read ({exc.strerror})", display) from exc
    if size == 0:
        raise BadInputError("empty file: a reading list needs at least one entry", display)
    if size > max_bytes:
        raise BadInputError(
            f"file too large ({size / 1e6:.1f} MB; the limit for one reading list is "
            f"{max_bytes / 1e6:.0f} MB)", display)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read ({exc.strerror})", display) from exc
    return _decode(raw, display)


def _decode(raw: bytes, display: str) -> list[str]:
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise BadInputError("binary file (NUL byte): not a Markdown reading list", display, line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BadInputError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {column})",
                            display, line) from exc
    lines = [clean_text(line) if not line.isascii() else line for line in text.splitlines()]
    if not any(line.strip() for line in lines):
        raise BadInputError("empty file: only blank lines", display)
    return lines


def parse_reading_list(path: Path, display: str | None = None, max_bytes: int = MAX_LIST_BYTES) -> ParsedList:
    display = display or str(path)
    return parse_lines(read_list_lines(path, display, max_bytes), display)


def parse_lines(lines: list[str], display: str) -> ParsedList:
    """Parse a list's (cleaned) lines; front matter is blanked, so line numbers stay the file's."""
    lines = _blank_front_matter(lines)
    walker = Walker(display)
    parser = markdown_parser()
    for offset, part in sections(lines):
        walker.run(read_blocks("\n".join(part), parser, offset))
    out = ParsedList(display)
    out.entries = walker.entries
    out.prose = [NoteLine(text, line) for text, line in walker.prose]
    index = {id(entry): i for i, entry in enumerate(out.entries)}
    out.linked_in_notes = [NoteLink(link, index.get(id(owner), -1) if owner is not None else -1, line, text)
                           for link, owner, line, text in walker.note_links]
    return out


def _blank_front_matter(lines: list[str]) -> list[str]:
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:40], 1):
            if line.strip() == "---":
                return [""] * (i + 1) + lines[i + 1:]
    return lines
