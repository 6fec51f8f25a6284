"""Parse hand-written Markdown reading lists into `ListedEntry` records.

The parser reads a file line by line and understands the constructs people use for reading lists:
headings (nested sections become topics), "Label:" lines before tables, tables with a Title column,
`### Title` blocks with a `**date**`, a bare URL and a summary paragraph, "`SHORT` **Title**" blocks
with author, date and link lines, bullets with bold or quoted titles and "by Authors (Month Year)",
bullets that open with a link to a paper ("- [Title](https://arxiv.org/abs/…) – note"),
sub-bullets that name model releases by link, `<details>` blocks, code fences and front matter
(skipped). Each entry keeps its title, links, short name, notes, section path and file:line; the
text that belongs to no entry is kept as prose for mention extraction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import BadInputError
from kg.ids import parse_arxiv_id
from kg.ingest.markdown import (
    Link,
    bold_spans,
    find_links,
    is_table_separator,
    parse_list_date,
    split_table_row,
    strip_markdown,
    title_from_heading,
)
from kg.text import clean_text, squash_spaces

MAX_LIST_BYTES = 8 * 1024 * 1024  # a reading list larger than this is refused, not parsed
MAX_NOTE_CHARS = 20_000  # a single note longer than this is cut (the list itself keeps it whole)

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])(?:\s+(.*))?$")
_LABEL_LINE = re.compile(r"^([^|#*`\[\]]{1,60}?)\s*[:：]\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SHORT_TITLE = re.compile(r"^`([^`]+)`\s+\*\*(.+?)\*\*\s*$")
_QUOTED_BOLD = re.compile(r"\*\*\s*[\"“](.+?)[\"”]\s*\*\*")
_BOLD_TITLE_BY = re.compile(r"^\*\*([^*]+?):?\*\*:?\s+(?:Introduced\s+)?by\s+(.+)$", re.IGNORECASE)
_NOTE_PREFIX = re.compile(r"^(?:Notes?|\*\*Summary\*\*|Summary)\s*[:：]\s*", re.IGNORECASE)
_DATE_ONLY = re.compile(r"^\*\*\s*(\d{4}-\d{2}-\d{2})\s*\*\*$")
_BARE_URL = re.compile(r"^<?(https?://\S+?)>?$")
_PAREN_YEAR_LABEL = re.compile(r"\s*\((?:[^()]*\d{4}[^()]*)\)\s*:?\s*$")
_BY_AUTHORS = re.compile(r"\bby\s+(.+?)(?:\s*\(([^()]*)\))?\.?\s*$")
_DETAILS_OPEN = re.compile(r"^\s*<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?(?:summary|br|p|div|span)\b[^>]*>", re.IGNORECASE)
_IMAGE = re.compile(r"^\s*!\[")
_ORG_ABBREVIATION = re.compile(r"\b(?:Inc|Ltd|Co|Corp|LLC|GmbH|Labs?)\.$")  # "ByteDance Inc.": no sentence


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
    lines: list[str] = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if b"\x00" in raw:
                raise BadInputError("binary file (NUL byte): not a Markdown reading list", display, n)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadInputError(
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", display, n
                ) from exc
            lines.append(clean_text(text.rstrip("\r\n")))
    if not any(line.strip() for line in lines):
        raise BadInputError("empty file: only blank lines", display)
    return lines


def parse_reading_list(path: Path, display: str | None = None, max_bytes: int = MAX_LIST_BYTES) -> ParsedList:
    display = display or str(path)
    lines = read_list_lines(path, display, max_bytes)
    return _Parser(display).run(lines)


# ---- the parser ----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, file: str):
        self.out = ParsedList(file)
        self.file = file
        self.sections: list[tuple[int, str]] = []
        self.label = ""  # a "Label:" line that names the table below it
        self.pending_label: tuple[str, str, int] | None = None  # (label, line text, n) until a table
        self.pending_heading: tuple[int, str, int] | None = None  # a heading that may be an entry
        self.group: list[ListedEntry] = []  # entries under the current top-level bullet
        self.entry: ListedEntry | None = None  # the open entry that following lines describe
        self.entry_sticky = False  # `### Title` entries stay open over blank lines
        self.bullets: list[tuple[int, str, ListedEntry | None]] = []  # (indent, bold label, entry)
        self.table: list[str] | None = None
        self.in_fence = False
        self.in_details = False

    # -- helpers --
    @property
    def section(self) -> str:
        parts = [title for _, title in self.sections]
        if self.label:
            parts.append(self.label)
        return " > ".join(p for p in parts if p)

    def new_entry(self, line: int, **kw: object) -> ListedEntry:
        entry = ListedEntry(self.file, line, self.section, **kw)  # type: ignore[arg-type]
        self.out.entries.append(entry)
        return entry

    def owner_index(self, entry: ListedEntry | None) -> int:
        return self.out.entries.index(entry) if entry is not None else -1

    def prose(self, text: str, n: int, owner: ListedEntry | None = None) -> None:
        """Text that is a note of `owner` (when given) or the list's own prose."""
        plain = strip_markdown(_HTML_TAG.sub(" ", text))
        for link in find_links(text):
            if link.kind == "arxiv":
                self.out.linked_in_notes.append(NoteLink(link, self.owner_index(owner), n, plain))
        if owner is not None:
            owner.add_note(plain, n)
        elif plain.strip():
            self.out.prose.append(NoteLine(squash_spaces(plain), n))

    def close_entry(self) -> None:
        self.entry = None
        self.entry_sticky = False

    # -- main loop --
    def run(self, lines: list[str]) -> ParsedList:
        start = self._skip_front_matter(lines)
        for n, line in enumerate(lines[start:], start + 1):
            self.step(line, n)
        return self.out

    def _skip_front_matter(self, lines: list[str]) -> int:
        if lines and lines[0].strip() == "---":
            for i, line in enumerate(lines[1:40], 1):
                if line.strip() == "---":
                    return i + 1
        return 0

    def step(self, line: str, n: int) -> None:  # noqa: C901 - one dispatch over line kinds
        stripped = line.strip()
        if _FENCE.match(line):
            self.in_fence = not self.in_fence
            return
        if self.in_fence or _IMAGE.match(line):
            return
        if self.in_details or _DETAILS_OPEN.match(line):
            self.details(line, n)
            return
        if self.table is not None:
            if stripped.startswith("|") or stripped.count("|") >= 1 and stripped:
                self.table_row(stripped, n)
                return
            self.table = None
        if not stripped:
            self.blank()
            return
        self._settle_pending(stripped, n)
        if stripped in ("---", "***", "___"):
            self.close_entry()
            self.bullets.clear()
            return
        if m := _HEADING.match(stripped):
            self.heading(len(m[1]), m[2], n)
            return
        if self.table_header(stripped, n):
            return
        if m := _BULLET.match(line):
            self.bullet(len(m[1].expandtabs(4)), (m[2] or "").strip(), n)
            return
        if (m := _LABEL_LINE.match(stripped)) and not find_links(stripped) and self.entry is None:
            self.pending_label = (clean_text(m[1]).strip(), stripped, n)
            return
        self.text_line(stripped, n)

    def _settle_pending(self, stripped: str, n: int) -> None:
        """A "Label:" line names the table that follows it, else it is prose; a link-less heading
        followed by a `**date**` or a bare URL line is an entry, not a section."""
        if self.pending_label is not None:
            label, text, line = self.pending_label
            self.pending_label = None
            if "|" in stripped and "title" in stripped.lower():
                self.label = label
            else:
                self.prose(text, line)
        if self.pending_heading is not None:
            level, title, line = self.pending_heading
            self.pending_heading = None
            if _DATE_ONLY.match(stripped) or _BARE_URL.match(stripped):
                self.sections.pop()
                self.entry = self.new_entry(line, title=title)
                self.entry_sticky = True

    # -- constructs --
    def blank(self) -> None:
        if not self.entry_sticky:
            self.close_entry()

    def heading(self, level: int, text: str, n: int) -> None:
        self.close_entry()
        self.bullets.clear()
        self.label = ""
        title, links = title_from_heading(text)
        paper_links = [link for link in links if link.is_paper]
        if paper_links or (level >= 3 and not links and self._looks_like_title(title)):
            while self.sections and self.sections[-1][0] >= level:
                self.sections.pop()
            self.entry = self.new_entry(n, title=title, paper_links=paper_links)
            self.entry.links = [link for link in links if not link.is_paper]
            self.entry_sticky = True
            return
        while self.sections and self.sections[-1][0] >= level:
            self.sections.pop()
        self.sections.append((level, title))
        self.group = []
        if level >= 3 and not links:
            self.pending_heading = (level, title, n)
        if links:  # a heading that links an article, a blog post or a video: prose, not a paper
            self.out.prose.append(NoteLine(title, n))

    @staticmethod
    def _looks_like_title(title: str) -> bool:
        """A level-3+ heading with no link is an entry when it reads like a paper title."""
        words = title.split()
        return len(words) >= 4 and not title.endswith(":")

    def table_header(self, stripped: str, n: int) -> bool:
        if "|" not in stripped:
            return False
        cells = [c.strip().lower() for c in split_table_row(stripped)]
        if "title" not in cells:
            return False
        self.close_entry()
        self.table = cells
        return True

    def table_row(self, stripped: str, n: int) -> None:
        if is_table_separator(stripped):
            return
        cells = split_table_row(stripped)
        row = dict(zip(self.table or [], cells, strict=False))
        title_cell = row.get("title", "")
        links = find_links(title_cell)
        title = strip_markdown(title_cell).strip()
        if not title:
            return
        method = strip_markdown(row.get("method", "")).strip()
        entry = self.new_entry(
            n, title=title, paper_links=links, date=row.get("date", "").strip(),
            venue=strip_markdown(row.get("conference", "")).strip(),
            short_name="" if method.lower() in ("", "--", "~", "none", "-") else method,
        )
        for key, cell in row.items():
            if key in ("title", "method", "date", "conference"):
                continue
            for link in find_links(cell):
                if link.url not in {x.url for x in entry.paper_links}:
                    entry.links.append(link)
            text = strip_markdown(cell).strip()
            if key.endswith("abstract") and text.lower() not in ("none", "") and not find_links(cell):
                entry.add_note(text, n)

    def details(self, line: str, n: int) -> None:
        """`<details>` blocks are notes of the entry before them."""
        self.in_details = not _DETAILS_CLOSE.search(line)
        text = _HTML_TAG.sub(" ", re.sub(r"</?details[^>]*>", " ", line, flags=re.IGNORECASE)).strip()
        target = self.entry or (self.out.entries[-1] if self.out.entries else None)
        if text and text.lower() != "notes" and not re.fullmatch(r"\d+\.", text):
            self.prose(text, n, target)
        if self.entry is None and target is not None:
            self.entry, self.entry_sticky = target, False

    def bullet(self, indent: int, body: str, n: int) -> None:
        while self.bullets and self.bullets[-1][0] >= indent:
            self.bullets.pop()
        if not self.bullets:
            self.group = []
        if not body:
            return
        if self.entry is not None and not self.bullets and self._sub_release(body, n):
            return
        owner = self.entry
        entry = self._bullet_entry(body, n)
        label = ""
        spans = bold_spans(body)
        if spans and body.startswith("**"):
            label = spans[0]
        self.bullets.append((indent, label, entry))
        if entry is not None:
            return
        targets = [owner] if owner is not None else self.group  # "Significance: …" describes each title
        for target in targets:
            self.prose(body, n, target)
        if not targets:
            self.prose(body, n)

    def _sub_release(self, body: str, n: int) -> bool:
        """`- [stable-diffusion-2-base](hf-url): text` under an entry names a release of its own."""
        m = re.match(r"^\[([^\]]+)\]\((\S+?)\)\s*[:：]\s*(.*)$", body)
        if not m or self.entry is None:
            return False
        link = find_links(f"[{m[1]}]({m[2]})")[0]
        if link.kind not in ("model", "code"):
            return False
        parent = self.entry
        sub = ListedEntry(self.file, n, parent.section, title=m[1], short_name=m[1], links=[link])
        self.out.entries.append(sub)
        self.prose(m[3], n, sub)
        self.entry = parent
        return True

    def _bullet_entry(self, body: str, n: int) -> ListedEntry | None:
        """A bullet that names a paper: a quoted bold title, a bold title "by …", or a bare name."""
        if m := _QUOTED_BOLD.search(body):
            return self._titled_bullet(m[1], body, n)
        if m := _BOLD_TITLE_BY.match(body):
            return self._titled_bullet(m[1], body, n)
        if entry := self._link_bullet(body, n):
            return entry
        if self._is_bare_name(body):
            name, _, rest = body.partition(":")
            entry = self.new_entry(n, title=body.rstrip(".") if rest else "", short_name=name.strip(),
                                   how="named")
            if not rest:
                entry.title = ""
            return entry
        return None

    def _link_bullet(self, body: str, n: int) -> ListedEntry | None:
        """"- [Title](https://arxiv.org/abs/…) – a note" or "- https://arxiv.org/abs/…": a bullet that
        opens with a link to a paper names that paper; what follows the link is its note."""
        m = re.match(r"^\[([^\[\]]+)\]\((\S+?)\)|^<?(https?://\S+?)>?(?=\s|$)", body)
        links = find_links(m[0]) if m else []
        if not links or not links[0].is_paper:
            return None
        link = links[0]
        title = strip_markdown(m[1] or "").strip()
        if title.lower() in ("paper", "pdf", "arxiv", "link") or "://" in title:
            title = ""
        entry = self.new_entry(n, title=title, paper_links=[link])
        rest = body[m.end():].strip().lstrip("-–—:：|").strip()
        if rest:
            self.prose(rest, n, entry)
        return entry

    def _titled_bullet(self, title: str, body: str, n: int) -> ListedEntry:
        title = strip_markdown(title).strip().rstrip(":")
        entry = self.new_entry(n, title=title)
        tail = body.split("**")[-1]
        if m := _BY_AUTHORS.search(tail):
            entry.authors = m[1].strip().rstrip(".")
            entry.date = m[2] or ""
        parents = [label for _, label, _ in self.bullets if label]
        if parents:
            entry.short_name = _PAREN_YEAR_LABEL.sub("", parents[-1]).rstrip(":").strip()
        if self.group:  # two titles under one label: the label names neither alone
            for other in [*self.group, entry]:
                other.short_name = ""
        self.group.append(entry)
        return entry

    @staticmethod
    def _is_bare_name(body: str) -> bool:
        """"- ControlNet", "- Imagine yourself", "- Elite: Encoding visual concepts …" (not prose)."""
        if find_links(body) or "**" in body or "`" in body:
            return False
        name, sep, rest = body.partition(":")
        words = name.split()
        if not 1 <= len(words) <= 3 or name.strip().endswith("."):
            return False
        if sep:
            return bool(rest.strip()) and len(rest.split()) >= 4 and name.strip()[:1].isupper() and \
                len(words) == 1
        return body[:1].isupper() or any(c.isupper() for c in body[1:])

    def text_line(self, stripped: str, n: int) -> None:
        if m := _SHORT_TITLE.match(stripped):
            self.short_title_entry(m[1], m[2], n)
            return
        if self.entry is not None:
            self.entry_line(stripped, n)
            return
        if m := _BARE_URL.match(stripped):
            self.out.prose.append(NoteLine(m[1], n))
            return
        self.prose(stripped, n)

    def short_title_entry(self, short: str, title_md: str, n: int) -> None:
        self.close_entry()
        links = find_links(title_md)
        title = strip_markdown(title_md).strip()
        entry = self.new_entry(n, title=title, short_name=short.strip())
        entry.links = links
        self.entry = entry

    def entry_line(self, stripped: str, n: int) -> None:  # noqa: C901 - the lines of an entry block
        entry = self.entry
        assert entry is not None  # noqa: S101 - guarded by the caller
        if m := _DATE_ONLY.match(stripped):
            entry.date = m[1]
            return
        if m := _BARE_URL.match(stripped):
            link = find_links(m[1])[0]
            (entry.paper_links if link.is_paper else entry.links).append(link)
            return
        if stripped.startswith("_") and stripped.rstrip().endswith("_") and not entry.authors:
            entry.authors = stripped.strip("_ ")
            return
        links = find_links(stripped)
        head = stripped.split("[")[0].split()
        if head and parse_list_date(head[0]) is not None and len(head) <= 6 or self._is_link_line(stripped):
            self._date_and_links(entry, stripped, links)
            return
        if _NOTE_PREFIX.match(stripped):
            self.prose(_NOTE_PREFIX.sub("", stripped), n, entry)
            self.entry_sticky = self.entry_sticky or stripped.lower().startswith("notes")
            return
        ends_sentence = stripped.endswith(".") and not _ORG_ABBREVIATION.search(stripped)
        if not entry.notes and not entry.authors and len(stripped) < 80 and not ends_sentence:
            entry.authors = stripped  # an organisation line: "Stability AI, Applied Research"
            return
        self.prose(stripped, n, entry)

    @staticmethod
    def _is_link_line(stripped: str) -> bool:
        rest = re.sub(r"\[\[[^\]]*\]\([^)]*\)\]|\[[^\]]*\]\([^)]*\)", "", stripped)
        return bool(find_links(stripped)) and len(rest.strip(" .")) <= 12

    @staticmethod
    def _date_and_links(entry: ListedEntry, stripped: str, links: list[Link]) -> None:
        head = stripped.split("[")[0].strip()
        date = parse_list_date(head)
        if date is not None:
            entry.date = head.split()[0].rstrip(".")
            org = " ".join(head.split()[1:]).strip()
            if org and not entry.authors:
                entry.authors = org
        for link in links:
            if link.text.lower() in ("paper", "pdf", "arxiv") or link.kind == "arxiv":
                entry.paper_links.append(link)
            else:
                entry.links.append(link)
