"""Tables and HTML blocks in the walk over a list's blocks: a table's rows are entries by their
columns (kg/ingest/tables.py); `<details>` blocks are notes or sections; a bold title alone on its line
takes its paper link from the HTML blocks and link lines right below it:

    🔥 **VITA: Towards Open-Source Interactive Omni Multimodal LLM**
    <p align="center"><img src="…"></p>
    <div align="center"> [[📖 Paper](https://arxiv.org/pdf/…)] [[🌟 GitHub](…)] </div>
"""

from __future__ import annotations

import re

from kg.ingest.blocks import Block
from kg.ingest.entries import bold_title
from kg.ingest.entry_lines import is_link_line
from kg.ingest.inline import Line
from kg.ingest.markdown import Link, html_links
from kg.ingest.tables import Columns, cell_text, columns_of, row_draft, row_note
from kg.ingest.walkstate import WalkState
from kg.text import squash_spaces

_DETAILS_OPEN = re.compile(r"<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary[^>]*>(.*?)</summary>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_NOTES_SUMMARY = frozenset("notes note abstract details more summary show tl;dr tldr click".split())


def _group_name(row: list[list[Line]]) -> str:
    """A row with one cell of words (bold, or the only one), no link and nothing else: a group's name."""
    filled = [cell for cell in row if cell_text(cell)]
    if len(filled) != 1 or any(line.all_links for line in filled[0]):
        return ""
    spans = [s for line in filled[0] for s in line.visible()]
    return cell_text(filled[0]) if spans and all(s.bold for s in spans) else ""


class TablesAndHtml(WalkState):
    def _table(self, block: Block) -> None:
        self.close()
        if not block.rows:
            return
        header = [cell_text(cell) for cell in block.rows[0]]
        cols = columns_of(header)
        label = self.table_label
        for row in block.rows[1:]:
            group = _group_name(row) if cols is not None else ""
            if group:  # "| | **Mesh Stylization** | | |": the rows below it are of that group
                self.table_label = " > ".join(x for x in (label, group) if x)
                continue
            self._row(cols, row)
        self.table_label = label

    def _row(self, cols: Columns | None, row: list[list[Line]]) -> None:
        draft = row_draft(cols, row) if cols is not None else None
        number = next((cell[0].number for cell in row if cell), 0)
        if draft is None:
            for cell in row:
                for line in cell:
                    self.note_line(line, None)
            return
        entry = self.new_entry(number, draft)
        if cols is not None and (text := row_note(cols, row)):
            entry.add_note(text, number)

    def _html(self, block: Block) -> None:
        html = block.html
        if _DETAILS_OPEN.search(html):
            self._details(block)
        elif _DETAILS_CLOSE.search(html):
            self.notes_details = None
            if self.details:
                self.details.pop()
        elif not self.take_bold_links(html_links(html)):
            for link in html_links(html):
                if link.kind == "arxiv":
                    self.note_links.append((link, None, block.start, link.url))
        if _DETAILS_CLOSE.search(html) and _DETAILS_OPEN.search(html):
            self.notes_details = None

    # ---- a bold title over HTML blocks and link lines -------------------------------------------
    def wait_for_links(self, block: Block) -> bool:
        """A paragraph that is one bold title line and nothing else: its links may come below it."""
        line = block.lines[0]
        draft = bold_title(line, True) if len(block.lines) == 1 and block.depth == 0 else None
        if draft is None or not draft.title or draft.paper_links:
            return False
        self.bold_wait = (line, draft)
        return True

    def takes_bold_links(self, block: Block) -> bool:
        """Can `block` bring the links of a waiting bold title (an HTML block, a line of links)?"""
        if self.bold_wait is None and self.bold_entry is None:
            return False
        if block.kind == "html":
            return not (_DETAILS_OPEN.search(block.html) or _DETAILS_CLOSE.search(block.html))
        return block.kind == "para" and block.depth == 0 and all(
            is_link_line(line, line.all_links) for line in block.lines)

    def take_bold_links(self, links: list[Link]) -> bool:
        """The links below a bold title: its entry is made at the first paper link (before it, the
        title waits); False when no bold title waits for links."""
        if self.bold_entry is not None:
            known = set(self.bold_entry.urls)
            for link in links:
                if link.url not in known and not link.url.startswith("#"):
                    (self.bold_entry.paper_links if link.is_paper else self.bold_entry.links).append(link)
            return True
        if self.bold_wait is None:
            return False
        line, draft = self.bold_wait
        draft.add_links(links)
        if draft.paper_links:
            self.bold_wait, self.bold_entry = None, self.new_entry(line.number, draft)
        return True

    def end_bold_links(self) -> None:
        """A block that brings no links ends the wait: a title that got no paper link is prose."""
        if self.bold_wait is not None:
            self.note_line(self.bold_wait[0], None)
        self.bold_wait = self.bold_entry = None

    def _details(self, block: Block) -> None:
        """`<details>`: a "Notes" summary makes its content notes of the entry before it; any other
        summary ("2023") names a section for what the block holds."""
        m = _SUMMARY.search(block.html)
        summary = squash_spaces(_TAG.sub(" ", m[1])) if m else ""
        target = self.open or (self.entries[-1] if self.entries else None)
        notes_like = not summary or summary.lower().strip(" :") in _NOTES_SUMMARY
        if notes_like:
            self.notes_details = target
        else:
            self.details.append(summary)
        body = _SUMMARY.sub(" ", block.html)
        first = block.start
        for offset, raw in enumerate(body.split("\n")):
            text = squash_spaces(_TAG.sub(" ", raw))
            if text and not re.fullmatch(r"\d+\.", text):
                self.note(text, first + offset, target if notes_like else None)


