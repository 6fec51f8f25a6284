"""Mention extraction: which known papers and systems a piece of text names, by alias or title."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kg.model import Paper, System

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
MIN_ALIAS_LEN = 2


@dataclass(frozen=True)
class Found:
    record_id: str
    alias: str
    start: int
    end: int


class MentionMatcher:
    """Finds names of records in text: longest names first, case-sensitive, whole words only.

    Case-sensitivity keeps "GAN" from matching "gan" inside words and lets acronyms stay precise;
    a plural "s" is allowed ("LDMs", "GANs"). A name shared by several records is skipped.
    """

    def __init__(self, records: Iterable[Paper | System]):
        owners: dict[str, set[str]] = {}
        for record in records:
            names = [*record.aliases, record.title] if isinstance(record, Paper) else [record.name,
                                                                                         *record.aliases]
            for name in names:
                name = name.strip()
                if len(name) >= MIN_ALIAS_LEN and not name.isdigit():
                    owners.setdefault(name, set()).add(record.id)
        self.owner = {name: next(iter(ids)) for name, ids in owners.items() if len(ids) == 1}
        ordered = sorted(self.owner, key=lambda n: (-len(n), n))
        alternatives = "|".join(rf"(?<![A-Za-z0-9_-]){re.escape(n)}(?:s)?(?![A-Za-z0-9_])" for n in ordered)
        self.pattern = re.compile(alternatives) if ordered else None

    def find(self, text: str) -> list[Found]:
        if self.pattern is None or not text:
            return []
        found = []
        for m in self.pattern.finditer(text):
            name = m.group(0)
            if name not in self.owner and name.endswith("s"):
                name = name[:-1]
            if name in self.owner:
                found.append(Found(self.owner[name], name, m.start(), m.end()))
        return found


def sentence_around(text: str, start: int, end: int, max_len: int = 400) -> str:
    """The sentence of `text` that holds the span [start, end)."""
    pos = 0
    for sentence in _SENTENCE_END.split(text):
        begin = text.find(sentence, pos)
        if begin <= start < begin + len(sentence):
            return sentence.strip()[:max_len]
        pos = begin + len(sentence)
    return text[max(0, start - max_len // 2): end + max_len // 2].strip()
