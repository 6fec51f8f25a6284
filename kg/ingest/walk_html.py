"""Tables and HTML blocks in the walk over a list's blocks: a table's rows are entries by their
columns (kg/ingest/tables.py); `<details>` blocks are notes or sections."""

from __future__ import annotations

import re

from kg.ingest.blocks import Block
from kg.ingest.inline import Line
from kg.ingest.markdown import find_links
from kg.ingest.tables import Columns, cell_text, columns_of, row_draft, row_note
from kg.ingest.walkstate import WalkState
from kg.text import squash_spaces

_DETAILS_OPEN = re.compile(r"<details\b", re.IGNORECASE)
_DETAILS_CLOSE = re.compile(r"</details>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary[^>]*>(.*?)</summary>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_NOTES_SUMMARY = frozenset("notes note abstract details more summary show tl;dr tldr click".split())


class TablesAndHtml(WalkState):
    def _table(self, block: Block) -> None:
        self.close()
        if not block.rows:
            return
        header = [cell_text(cell) for cell in block.rows[0]]
        cols = columns_of(header)
        for row in block.rows[1:]:
            self._row(cols, row)

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
        else:
            for link in find_links(html):
                if link.kind == "arxiv":
                    self.note_links.append((link, None, block.start, link.url))
        if _DETAILS_CLOSE.search(html) and _DETAILS_OPEN.search(html):
            self.notes_details = None

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


