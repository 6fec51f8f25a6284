"""The walk over a list's blocks: sections from headings, entries from blocks, notes and prose.

An entry stays open for the block right below it (no blank line between) and for the blocks nested
in its list item; an entry made by a heading ("### Title" then a date, a URL and a summary) stays open
until the next heading or rule. A link-less heading taken for a paper's title becomes a section again
when an entry or a deeper heading appears below it; a link-less title-case bullet becomes the category
of its list's next items when the item after it brings a paper link. News lines (kg/ingest/news.py)
are prose. Tables and HTML blocks: kg/ingest/walk_html.py; what the walk keeps: kg/ingest/walkstate.py.
"""

from __future__ import annotations

import re

from kg.ingest.blocks import Block
from kg.ingest.entries import (
    bare_name,
    bold_title,
    linked_title,
    quoted_title,
    short_name_title,
    sub_release,
    title_bullet,
)
from kg.ingest.fields import Draft, looks_like_authors, split_title, strip_decorations
from kg.ingest.inline import Line, joined
from kg.ingest.markdown import parse_list_date
from kg.ingest.news import is_news
from kg.ingest.walk_html import TablesAndHtml
from kg.ingest.walkstate import Item
from kg.text import squash_spaces

_PAREN_YEAR_LABEL = re.compile(r"\s*\((?:[^()]*\d{4}[^()]*)\)\s*:?\s*$")
_DATE_ONLY = re.compile(r"^\*\*\s*(\d{4}-\d{2}-\d{2})\s*\*\*$")
_BARE_URL = re.compile(r"^<?(https?://\S+?)>?$")
_CATEGORY_WORDS = 5
# "## Table of Contents" over anchor links: the list's index, never a section of what follows it
_TOC_TITLE = re.compile(r"^\W*(?:table of contents|contents|toc|index|目录|目錄)\W*$", re.IGNORECASE)
_SMALL_WORDS = frozenset("a an and as at by for in of on or the to with".split())


class Walker(TablesAndHtml):
    """The walk: each block kind has its reader; `run` reads a part of the list's blocks in order."""

    # ---- the walk ----------------------------------------------------------------------------
    def run(self, blocks: list[Block]) -> None:
        self.blocks = blocks
        for k, block in enumerate(blocks):
            self.k = k
            if self.notes_details is not None and block.kind != "html":
                for line in _block_lines(block):
                    self.note_line(line, self.notes_details)
                continue
            if not self.takes_bold_links(block):
                self.end_bold_links()
            getattr(self, "_" + block.kind)(block)

    def _rule(self, block: Block) -> None:
        self.close()
        self.items.clear()
        self.tentative = self.pending_heading = self.tentative_bullet = self.bullet_category = None

    def _heading(self, block: Block) -> None:
        if self.tentative is not None and block.level > self.tentative[1]:
            self._demote_tentative()  # a heading with headings under it is a section, not a title
        self.close()
        self.items.clear()
        self.group, self.table_label, self.tentative, self.pending_heading = [], "", None, None
        self.tentative_bullet = self.bullet_category = None
        line = block.lines[0] if block.lines else Line(block.start)
        links = [x for x in line.all_links if not x.url.startswith("#")]
        papers = [x for x in links if x.is_paper]
        title = strip_decorations(line.text)
        while self.sections and self.sections[-1][0] >= block.level:
            self.sections.pop()
        if papers or (block.level >= 3 and not links and _looks_like_title(title)):
            draft = Draft(title=split_title(title)[0])
            draft.add_links(links)
            entry = self.new_entry(block.start, draft)
            self.open_entry(entry, block.end, sticky=True)
            if not papers:
                entry.from_heading = True  # a paper only when it is a known title (resolve.py)
                self.tentative = (entry, block.level)
            return
        self.sections.append((block.level, title))
        if block.level >= 3 and not links:
            self.pending_heading = (block.level, title, block.start)
        if links:  # a heading that links an article, a blog post or a video: prose, not a paper
            self.prose.append((title, block.start))

    def _para(self, block: Block) -> None:
        if not block.lines:
            return
        if block.depth > 0 and self.items:
            self._item_para(block)
            return
        self._settle_heading(block)
        links = [x for line in block.lines for x in line.all_links]
        if self._news(block) or self._table_label(block) or (
                self.takes_bold_links(block) and self.take_bold_links(links)):
            return
        draft = _block_draft(block.lines)
        if self.open is not None and self.continues(block) and (
                draft is None or not (draft.title or draft.short_name)):
            self.open_end = block.end
            self.feed(self.open, block.lines)
            return
        if self._per_line_entries(block):
            return
        if draft is None:
            if not self.wait_for_links(block):
                for line in block.lines:
                    self.note_line(line, None)
            return
        entry = self.new_entry(block.start, draft)
        self.open_entry(entry, block.end)
        self.feed(entry, block.lines[1:])

    def _news(self, block: Block) -> bool:
        """A paragraph that is news (kg/ingest/news.py): the list's prose."""
        if not is_news(block.lines[0], self.under_news_heading):
            return False
        self.close()
        for line in block.lines:
            self.note_line(line, None)
        return True

    def _settle_heading(self, block: Block) -> None:
        """A link-less heading followed by a `**date**` or a bare URL is an entry, not a section."""
        pending, self.pending_heading = self.pending_heading, None
        if pending is None:
            return
        first = block.lines[0]
        raw = first.text
        bold_date = len(first.visible()) == 1 and first.visible()[0].bold and _DATE_ONLY.match(f"**{raw}**")
        if bold_date or _BARE_URL.match(raw):
            level, title, line = pending
            self.sections.pop()
            entry = self.new_entry(line, Draft(title=title))
            self.open_entry(entry, block.start - 1, sticky=True)

    def _table_label(self, block: Block) -> bool:
        """A one-line "Label:" paragraph right above a table names the table's rows' section."""
        text = block.lines[0].text
        nxt = self.blocks[self.k + 1] if self.k + 1 < len(self.blocks) else None
        if len(block.lines) != 1 or not text.endswith((":", "：")) or block.lines[0].all_links:
            return False
        if nxt is None or nxt.kind != "table" or len(text) > 80:
            return False
        self.close()
        self.table_label = text.rstrip(":：").strip()
        return True

    def _per_line_entries(self, block: Block) -> bool:
        """ "[Title](arxiv-url) venue" lines, one paper a line, in one paragraph."""
        if len(block.lines) < 2 or bold_title(block.lines[0], True):
            return False  # a bold title over its authors and links: one entry
        drafts = [linked_title(line) for line in block.lines]
        if sum(1 for d in drafts if d is not None and d.title) < 2:
            return False
        for line, draft in zip(block.lines, drafts, strict=True):
            if draft is not None:
                self.new_entry(line.number, draft)
            else:
                self.note_line(line, self.entries[-1] if self.entries else None)
        self.close()
        return True

    # ---- list items --------------------------------------------------------------------------
    def _item(self, block: Block) -> None:
        before: Item | None = None  # the item before this one in its list
        while self.items and self.items[-1].depth >= block.depth:
            popped = self.items.pop()
            before = popped if popped.depth == block.depth else before
        if self.bullet_category is not None and (block.depth < self.bullet_category[0] or (
                block.depth == self.bullet_category[0] and not _has_paper_link(block))):
            self.bullet_category = None  # its entries end at the first item without a paper link
        if block.depth == 1:
            self.group = []
        self.pending_heading = None
        item = Item(block.depth)
        parent = self.items[-1] if self.items else None
        if block.lines:
            self._item_body(block, item, parent)
            self._category_bullet(block, item, before)
        self.items.append(item)

    def _table_of_contents(self, line: Line) -> bool:
        """An item of anchor links is the list's index; under "Table of Contents", so is its heading: the
        headings after it are not its subsections."""
        if not line.links or not all(x.url.startswith("#") for x in line.links):
            return False
        if self.sections and _TOC_TITLE.match(self.sections[-1][1]):
            self.sections.pop()
        return True

    def _item_body(self, block: Block, item: Item, parent: Item | None) -> None:
        line = block.lines[0]
        if self._table_of_contents(line):
            return
        if (parent is not None and parent.news) or is_news(line, self.under_news_heading):
            item.news = True  # "- [2024.05] We released … [Paper](…)": prose, its sub-items too
            for text_line in block.lines:
                self.note_line(text_line, None)
            return
        if block.depth == 1 and self.open is not None and self.continues(block) and \
                (draft := sub_release(line)) is not None:
            parent_entry = self.open
            item.entry = self.new_entry(block.start, Draft(
                title=draft.title, short_name=draft.short_name, links=draft.links))
            item.entry.section = parent_entry.section
            self.note(draft.rest, block.start, item.entry, line.all_links[1:])
            self.open_end = block.item_end
            return
        draft = self._item_draft(block, parent)
        if draft is not None and len(draft.date) <= 4:  # no date, or only a venue's year
            draft.date = next((i.date for i in reversed(self.items) if i.date), draft.date)
        if draft is not None:
            item.entry = self.new_entry(block.start, draft)
            if draft.how == "titled":
                item.entry.how = "listed"
                self.group.append(item.entry)
            self.feed(item.entry, block.lines[1:])
            if item.entry.how == "named" and item.entry.title and item.entry.paper_links:
                item.entry.how = "listed"  # a title whose paper link comes on its next line
            if block.depth == 1:
                self.close()
            return
        self._item_words(block, item, parent)

    def _category_bullet(self, block: Block, item: Item, before: Item | None) -> None:
        """ "- Personalized Generation" among linked entries, before linked entries: a link-less title
        bullet whose neighbours carry paper links names the category of the entries after it. It stays
        an entry (title only) until the next item of its list brings a paper link."""
        entry = item.entry
        if self.tentative_bullet is not None and self.tentative_bullet[1] == block.depth:
            if entry is not None and entry.paper_links:
                bullet, depth = self.tentative_bullet
                self.unmake(bullet)
                self.bullet_category = (depth, bullet.title or bullet.short_name)
                entry.section = self.section
            self.tentative_bullet = None
        linked_before = before is None or (before.entry is not None and bool(before.entry.paper_links)) or (
            self.bullet_category is not None and self.bullet_category[0] == block.depth)
        if entry is not None and not entry.urls and linked_before and _reads_like_category(block.lines[0]):
            self.tentative_bullet = (entry, block.depth)

    def _item_draft(self, block: Block, parent: Item | None) -> Draft | None:
        line = block.lines[0]
        if (draft := quoted_title(line)) is not None:
            labelled = next((i for i in reversed(self.items) if i.label), None)
            if labelled is not None:
                draft.short_name = _PAREN_YEAR_LABEL.sub("", labelled.label).rstrip(":").strip()
            if self.group:  # two titles under one label: the label names neither alone but is their category
                draft.short_name = ""
                if labelled is not None and not labelled.date and not labelled.category:
                    labelled.category = _PAREN_YEAR_LABEL.sub("", labelled.label).rstrip(":：").strip()
                for other in self.group:
                    other.short_name, other.section = "", self.section
            draft.how = "titled"
            return draft
        draft = _block_draft(block.lines)
        if draft is None and _wraps_before_links(block.lines):
            draft = linked_title(joined(block.lines[0], block.lines[1]))
            block.lines = [joined(block.lines[0], block.lines[1]), *block.lines[2:]] if draft else block.lines
        if draft is None and parent is not None and parent.entry is not None:
            return None  # "  - Keyword: …" under a paper: its words, never a paper of their own
        if draft is None and not self._has_children(block):
            draft = bare_name(line) or title_bullet(line)
        return draft

    def _has_children(self, block: Block) -> bool:
        """Does a list item hold nested blocks (a category bullet over its papers)?"""
        nxt = self.blocks[self.k + 1] if self.k + 1 < len(self.blocks) else None
        return nxt is not None and nxt.depth > block.depth and nxt.start <= block.item_end

    def _item_words(self, block: Block, item: Item, parent: Item | None) -> None:
        line = block.lines[0]
        spans = line.visible()
        owner = parent.entry if parent is not None else None
        if owner is not None and not owner.authors and not line.all_links and looks_like_authors(line.text):
            owner.authors = line.text.strip(" .")  # "  - Dun Zeng, Yong Dai, …" under its paper
            return
        if owner is not None:  # "  - Code: [official](github-url)": the paper's own links
            owner.links += [x for x in line.all_links if not x.is_paper and x.url not in set(owner.urls)]
        if spans and spans[0].bold:
            item.label = squash_spaces("".join(s.text for s in spans if s.bold))
            item.date = _label_date(item.label)
        elif self._has_children(block) and not line.all_links and len(line.text.split()) <= 6:
            item.category = strip_decorations(line.text).rstrip(":：")
            return
        owners = [parent.entry] if parent is not None and parent.entry is not None else \
            [self.open] if self.open is not None and self.continues(block) else list(self.group)
        if self.group and parent is not None and parent.entry is None:
            owners = list(self.group)
        for text_line in block.lines:
            if not owners:
                self.note_line(text_line, None)
            for owner in owners:
                self.note_line(text_line, owner)

    def _item_para(self, block: Block) -> None:
        item = next((i for i in reversed(self.items) if i.depth <= block.depth), None)
        owner = item.entry if item is not None else None
        for line in block.lines:
            self.note_line(line, owner)


def _reads_like_category(line: Line) -> bool:
    """ "Inpainting", "Text-Guided Image Editing", "Personalized Image Generation Methods": a short
    title-only bullet (five words at most; a longer one reads as a paper's title), or a bare name of
    plain capitalised words (never "ControlNet" or "SDXL": names of works)."""
    if title_bullet(line) is not None:
        return len(line.text.split()) <= _CATEGORY_WORDS
    parts = re.split(r"[\s-]+", line.text.strip())
    return bare_name(line) is not None and all(
        re.fullmatch(r"[A-Z][a-z]+", p) or p.lower() in _SMALL_WORDS for p in parts if p)


def _has_paper_link(block: Block) -> bool:
    return any(x.is_paper for line in block.lines for x in line.all_links)


def _block_lines(block: Block) -> list[Line]:
    if block.kind == "table":
        return [line for row in block.rows for cell in row for line in cell]
    return block.lines


def _block_draft(lines: list[Line]) -> Draft | None:
    first = lines[0]
    for reader in (short_name_title, lambda line: bold_title(line, len(lines) > 1), linked_title):
        draft = reader(first)
        if draft is not None:
            return draft
    return None


def _wraps_before_links(lines: list[Line]) -> bool:
    """ "- CROSSGET: CROSS-GUIDED ENSEMBLE OF TOKENS" / "FOR … TRANSFORMERS. [[Paper](arxiv)]": a
    link-less first line whose words go on in the next line, which brings the paper link."""
    if len(lines) < 2 or lines[0].all_links or not any(x.is_paper for x in lines[1].all_links):
        return False
    return not any(s.bold or s.em or s.code for s in lines[0].spans + lines[1].visible()[:1])


def _label_date(label: str) -> str:
    """ "[2024.12.20]", "2024-12-20", "Dec 2024": a bold label that is only a date finer than a year."""
    text = label.strip("[]() :")
    parsed = parse_list_date(text)
    return text if parsed is not None and parsed[1] != "year" and len(text.split()) <= 3 else ""


def _looks_like_title(title: str) -> bool:
    """A level-3+ heading with no link is an entry when it reads like a paper title."""
    words = title.split()
    return len(words) >= 4 and not title.endswith((":", "!"))
