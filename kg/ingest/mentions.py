"""Names of known papers and systems in text: one matcher for ingest's mentions and the graph's
extraction, and the sentence around a match.

A name matches as a whole word, longest first, never followed by a version number ("SD 2" is not
"SD 2.1"); spaces are optional ("SD v1.5" = "SDv1.5"); acronyms take a plural "s" ("LDMs"); coined
tokens match in any case ("controlNet" = "ControlNet"), plain words and acronyms only as written
("GLIDE" is not "glide"). A name two records share is skipped: never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kg.model import Paper, System
from kg.text import clean_text, compact_key

Record = Paper | System

# Generic words that some record carries as an alias ("GAN", "VAE"): never evidence of anything.
GENERIC_NAMES = {"gan", "gans", "vae", "vaes", "aes", "sde", "sdes", "cfg", "diffusionmodels",
                 "autoencodersaes", "diffusionmodels2015"}
_BOUNDARY_L = r"(?<![A-Za-z0-9_\-])"
# not followed by a version ("DALL-E" is not "DALL-E 2", "SD 2" not "SD 2.5"); a year may follow
_BOUNDARY_R = r"(?![A-Za-z0-9_\-])(?!\s?\d{1,2}(?!\d))(?!\.\d)"
_WORD_START = re.compile(r"(?<![A-Za-z0-9_\-])\S")
_PLAIN_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")
MAX_HEAD_WORDS, MAX_HEAD_CHARS = 3, 30  # a title's part before ":" is a name when this short
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+(?=[^a-z\s])|(?<=[。！？])(?=\S)")


@dataclass(frozen=True)
class Hit:
    """A record's name found in a text, at [start, end)."""

    record_id: str
    name: str
    start: int
    end: int


def name_pattern(name: str) -> str:
    """The regex for one name: whole word, not followed by a version number, spaces optional
    ("SD v1.5" = "SDv1.5"), a middle dot or a hyphen ("DALL·E 2" = "DALL-E 2"), plural "s" for
    acronyms ("LDMs"); case-insensitive only for coined tokens ("PIXART-α" = "PixArt-α",
    "controlNet" = "ControlNet"), never for plain words or acronyms ("GLIDE" is not "glide")."""
    body = r"\s?".join(re.escape(part) for part in name.split()).replace("·", "[·-]")  # DALL·E = DALL-E
    if name[-1].isupper():
        body += "s?"
    coined = " " not in name and len(name) >= 4 and not _PLAIN_WORD.fullmatch(name)
    return _BOUNDARY_L + (f"(?i:{body})" if coined else body) + _BOUNDARY_R


class NameMatcher:
    """Finds the records a text names, by alias, system name or title; longest name first.

    A name two records share is skipped (never guessed); generic aliases ("GAN") are ignored.
    """

    def __init__(self, records: Iterable[Record]):
        owners: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for record in records:
            for name in _names_of(record):
                key = compact_key(name)
                if len(key) < 2 or key in GENERIC_NAMES or key.isdigit():
                    continue
                owners.setdefault(key, set()).add(record.id)
                names.setdefault(name, key)
        self.owner = {key: next(iter(ids)) for key, ids in owners.items() if len(ids) == 1}
        usable = sorted((n for n, k in names.items() if k in self.owner), key=lambda n: (-len(n), n))
        # Names by the first two letters or digits they start with, longest first: at a word start only
        # those are tried, each by its own pattern, compiled the first time it is needed (linear in
        # the number of names, however many a corpus has).
        self.by_start: dict[str, list[str]] = {}
        for name in usable:
            self.by_start.setdefault(_start_key(name), []).append(name)
        self._patterns: dict[str, re.Pattern[str]] = {}

    def _match(self, text: str, i: int) -> re.Match[str] | None:
        for name in self.by_start.get(_start_key(text[i:i + 12]), ()):
            pattern = self._patterns.get(name)
            if pattern is None:
                pattern = self._patterns[name] = re.compile(name_pattern(name))
            if m := pattern.match(text, i):
                return m
        return None

    def find(self, text: str) -> list[Hit]:
        """The records `text` names, left to right, never two overlapping."""
        hits: list[Hit] = []
        pos = 0
        for start in _WORD_START.finditer(text):
            i = start.start()
            m = self._match(text, i) if i >= pos else None
            if m is None:
                continue
            key = compact_key(m.group(0))
            rid = self.owner.get(key) or self.owner.get(key[:-1] if key.endswith("s") else "")
            if rid:
                hits.append(Hit(rid, m.group(0), m.start(), m.end()))
                pos = m.end()
        return hits


def _start_key(text: str) -> str:
    """The first two letters or digits of a name or text, lower case ("SD v1.5" and "SDv1.5": "sd")."""
    return "".join(c for c in text.lower() if c.isalnum())[:2]


def _names_of(record: Record) -> list[str]:
    """Aliases, the title, a system's name, and a title's short head ("LLaMA" of "LLaMA: Open and …")."""
    names = [*record.aliases, record.title]
    if isinstance(record, System):
        names.append(record.name)
    head = record.title.split(":", 1)[0].strip() if ":" in record.title else ""
    if head and len(head) <= MAX_HEAD_CHARS and len(head.split()) <= MAX_HEAD_WORDS:
        names.append(head)
    return [clean_text(n).strip() for n in names if n and n.strip()]


def split_sentences(text: str) -> list[str]:
    """Sentences of a plain text ("SDv1.2" and "2022.12" keep their dots)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def sentence_around(text: str, start: int, end: int, max_len: int = 400) -> str:
    """The sentence of `text` that holds the span [start, end)."""
    pos = 0
    for sentence in split_sentences(text):
        begin = text.find(sentence, pos)
        if begin <= start < begin + len(sentence):
            return sentence.strip()[:max_len]
        pos = begin + len(sentence)
    return text[max(0, start - max_len // 2): end + max_len // 2].strip()
