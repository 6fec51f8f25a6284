"""One entry of a reading list, as the list writes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.ingest.markdown import Link
from kg.text import squash_spaces

MAX_NOTE_CHARS = 20_000  # a single note longer than this is cut (the list itself keeps it whole)


@dataclass
class NoteLine:
    text: str
    line: int


@dataclass
class ListedEntry:
    """One paper or release as a reading list writes it."""

    file: str
    line: int
    section: str
    title: str = ""
    short_name: str = ""
    paper_links: list[Link] = field(default_factory=list)  # links that point at the work itself
    links: list[Link] = field(default_factory=list)  # every other link of the entry (code, project …)
    notes: list[NoteLine] = field(default_factory=list)
    date: str = ""
    authors: str = ""
    venue: str = ""
    how: str = "listed"  # listed | named (a bare name in a bullet)
    from_heading: bool = False  # a link-less heading read as a title: a paper only if a known one

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def urls(self) -> list[str]:
        return [link.url for link in self.paper_links + self.links]

    def add_note(self, text: str, line: int) -> None:
        text = squash_spaces(text)
        if text:
            self.notes.append(NoteLine(text[:MAX_NOTE_CHARS], line))
