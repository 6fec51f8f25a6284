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

import ahocorasick

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
        self.rank = {name: i for i, name in enumerate(usable)}
        # One Aho-Corasick automaton over every name's folded form (case folded, spaces dropped, "·"
        # as "-"): one pass over a text's folded form gives, at each word start, the few names that
        # can match there; each is then checked by its own pattern (boundaries, case, version
        # numbers), longest first, so a text costs the same however many names a corpus has.
        self._automaton: ahocorasick.Automaton | None = None
        folded: dict[str, list[str]] = {}
        for name in usable:
            folded.setdefault(_fold(name), []).append(name)
        if folded:
            self._automaton = ahocorasick.Automaton()
            for key, group in folded.items():
                self._automaton.add_word(key, (len(key), group))
            self._automaton.make_automaton()
        self._patterns: dict[str, re.Pattern[str]] = {}

    def _candidates(self, text: str) -> dict[int, list[str]]:
        """Names whose folded form starts at each folded position of `text`: a superset of the names
        that match there."""
        at: dict[int, list[str]] = {}
        if self._automaton is not None and text:
            for end, (length, group) in self._automaton.iter(_fold(text)):
                at.setdefault(end - length + 1, []).extend(group)
        return at

    def _match(self, text: str, i: int, names: list[str]) -> re.Match[str] | None:
        start_key = _start_key(text[i:i + 12])
        for name in sorted(names, key=self.rank.__getitem__):
            if _start_key(name) != start_key:
                continue
            pattern = self._patterns.get(name)
            if pattern is None:
                pattern = self._patterns[name] = re.compile(name_pattern(name))
            if m := pattern.match(text, i):
                return m
        return None

    def find(self, text: str) -> list[Hit]:
        """The records `text` names, left to right, never two overlapping."""
        candidates = self._candidates(text)
        if not candidates:
            return []
        folded_at = _folded_positions(text)
        hits: list[Hit] = []
        pos = 0
        for start in _WORD_START.finditer(text):
            i = start.start()
            names = candidates.get(folded_at[i]) if i >= pos else None
            m = self._match(text, i, names) if names else None
            if m is None:
                continue
            key = compact_key(m.group(0))
            rid = self.owner.get(key) or self.owner.get(key[:-1] if key.endswith("s") else "")
            if rid:
                hits.append(Hit(rid, m.group(0), m.start(), m.end()))
                pos = m.end()
        return hits


# Characters a case-insensitive regex takes as equal that casefold() keeps apart (the test checks
# every cased character against `re`).
_FOLD_EXTRA = {"\u0130": "i", "\u0131": "i", "\u1fd3": "\u0390", "\u1fe3": "\u03b0", "\ufb05": "\ufb06"}


def _fold_char(c: str) -> str:
    """One character as a case-insensitive match sees it ("ſ" and "s", "K" and "k" alike)."""
    if c in _FOLD_EXTRA:
        return _FOLD_EXTRA[c]
    for folded in (c.casefold(), c.lower()):
        if len(folded) == 1:
            return folded
    return c


class _FoldTable(dict[int, str | None]):
    """`str.translate` table for `_fold`, filled the first time each character is seen."""

    def __missing__(self, code: int) -> str | None:
        c = chr(code)
        folded = None if c.isspace() else "-" if c == "·" else _fold_char(c)
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()
_SPACE = re.compile(r"\s")


def _fold(text: str) -> str:
    """`text` folded for finding candidates: case folded, whitespace dropped, "·" as "-"."""
    return text.translate(_FOLD_TABLE)


def _folded_positions(text: str) -> list[int]:
    """For each index of `text`, the index of its character in `_fold(text)`."""
    out: list[int] = []
    n = last = 0
    for space in _SPACE.finditer(text):
        i = space.start()
        out.extend(range(n, n + i - last))
        n, last = n + i - last, i + 1
        out.append(n)
    out.extend(range(n, n + len(text) - last))
    return out


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
