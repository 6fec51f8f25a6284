"""What the walk over a list's blocks keeps: the section path, the entries made so far, the entry
still open for the lines below it, and the notes and prose. kg/ingest/walker.py reads the blocks;
this module records what they say."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.ingest.blocks import Block
from kg.ingest.entry_lines import LineFacts, read_entry_line
from kg.ingest.fields import Draft, split_venue_prefix
from kg.ingest.inline import Line
from kg.ingest.listed import ListedEntry
from kg.ingest.markdown import Link, find_links
from kg.ingest.news import is_news_heading
from kg.text import squash_spaces


@dataclass
class Item:
    """An open list item: its depth, the entry it made, its bold label or category words."""

    depth: int
    entry: ListedEntry | None = None
    label: str = ""
    category: str = ""
    date: str = ""  # a bold date the item's sub-items are listed under ("- **[2024.12.20]**")
    news: bool = False  # a news line (kg/ingest/news.py): its sub-items are news too


@dataclass
class WalkState:
    """The state of the walk over one list (see the module doc)."""

    file: str
    entries: list[ListedEntry] = field(default_factory=list)
    prose: list[tuple[str, int]] = field(default_factory=list)
    note_links: list[tuple[Link, ListedEntry | None, int, str]] = field(default_factory=list)
    sections: list[tuple[int, str]] = field(default_factory=list)
    table_label: str = ""
    details: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    group: list[ListedEntry] = field(default_factory=list)  # titled entries under one top-level bullet
    open: ListedEntry | None = None
    open_end: int = 0
    sticky: bool = False
    tentative: tuple[ListedEntry, int] | None = None  # a link-less heading read as a title, its level
    pending_heading: tuple[int, str, int] | None = None
    notes_details: ListedEntry | None = None  # inside <details><summary>Notes</summary>: notes of this
    blocks: list[Block] = field(default_factory=list)
    k: int = 0
    bold_wait: tuple[Line, Draft] | None = None  # a bold title alone on its line, its links still to come
    bold_entry: ListedEntry | None = None  # the entry such a title made, taking the link lines below it
    tentative_bullet: tuple[ListedEntry, int] | None = None  # a title-only bullet that may be a category
    bullet_category: tuple[int, str] | None = None  # (depth, name) of a bullet that heads its siblings

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def under_news_heading(self) -> bool:
        """Is the innermost heading (or `<details>` summary) "News", "Updates" or the like?"""
        last = self.details[-1] if self.details else self.sections[-1][1] if self.sections else ""
        return is_news_heading(last)

    @property
    def section(self) -> str:
        parts = [title for _, title in self.sections] + self.details
        parts += [item.category for item in self.items if item.category]
        if self.bullet_category is not None:
            parts.append(self.bullet_category[1])
        if self.table_label:
            parts.append(self.table_label)
        return " > ".join(p for p in parts if p)

    def new_entry(self, line: int, draft: Draft) -> ListedEntry:
        draft.title, venue, date = split_venue_prefix(draft.title)  # "**[ICLR 2023]** Title"
        draft.venue, draft.date = draft.venue or venue, draft.date or date
        if self.tentative is not None:
            heading = self.tentative[0]
            if heading.paper_links or heading.date:  # a link or a date under it: a paper after all
                self.tentative = None
            else:
                self._demote_tentative()
        entry = ListedEntry(self.file, line, self.section, title=draft.title, short_name=draft.short_name,
                            paper_links=list(draft.paper_links), links=list(draft.links), date=draft.date,
                            authors=draft.authors, venue=draft.venue, how=draft.how)
        self.entries.append(entry)
        if draft.rest:
            self.note(draft.rest, line, entry, draft.note_links)
        return entry

    def _demote_tentative(self) -> None:
        """An entry below a link-less heading: the heading was a section after all."""
        assert self.tentative is not None  # noqa: S101 - checked by the caller
        entry, level = self.tentative
        self.tentative = None
        self.unmake(entry)
        self.sections.append((level, entry.title))

    def unmake(self, entry: ListedEntry) -> None:
        """An entry that was a section after all: gone; its notes are the list's prose."""
        if entry in self.entries:
            self.entries.remove(entry)
        for note in entry.notes:
            self.prose.append((note.text, note.line))
        self.note_links = [(lk, None if owner is entry else owner, n, t)
                           for lk, owner, n, t in self.note_links]
        if self.open is entry:
            self.close()

    def note(self, text: str, line: int, owner: ListedEntry | None, links: list[Link] | None = None) -> None:
        """Words of `owner` (a note) or of the list itself (prose); arXiv links in them are kept."""
        text = squash_spaces(text)
        if text.startswith("!["):  # an image that markdown could not read ("![x]({{ '/a.jpg' }})")
            return
        for link in links if links is not None else find_links(text):
            if link.kind == "arxiv":
                self.note_links.append((link, owner, line, text))
        if owner is not None:
            owner.add_note(text, line)
        elif text:
            self.prose.append((text, line))

    def note_line(self, line: Line, owner: ListedEntry | None) -> None:
        self.note(line.text, line.number, owner, line.all_links)

    def close(self) -> None:
        self.open, self.sticky = None, False

    def open_entry(self, entry: ListedEntry, end: int, sticky: bool = False) -> None:
        self.open, self.open_end, self.sticky = entry, end, sticky

    def continues(self, block: Block) -> bool:
        """Does `block` belong to the open entry (no blank line between, or a heading's block)?"""
        return self.open is not None and (self.sticky or block.start <= self.open_end + 1)

    def feed(self, entry: ListedEntry, lines: list[Line]) -> None:
        """The lines after an entry's title line: authors, dates, links, notes."""
        for line in lines:
            facts = read_entry_line(line, bool(entry.notes), bool(entry.authors))
            self._apply(entry, facts, line)

    def _apply(self, entry: ListedEntry, facts: LineFacts, line: Line) -> None:
        if facts.date and (not entry.date or len(facts.date) > 4 or len(entry.date) <= 4):
            entry.date = facts.date  # a full date wins over a venue's year
        entry.authors = entry.authors or facts.authors
        entry.venue = entry.venue or facts.venue
        known = set(entry.urls)
        entry.paper_links += [x for x in facts.paper_links if x.url not in known]
        entry.links += [x for x in facts.links if x.url not in known]
        if facts.note:
            self.note(facts.note, line.number, entry, line.all_links)
        if facts.sticky and self.open is entry:
            self.sticky = True

