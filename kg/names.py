"""The one name matcher: a name or title against candidate names, with one scorer and one margin.

Used by every lookup that may have to pick among near matches: `kg show <name>` (kg/corpus.py), the
reading lists' title-only entries (kg/ingest/resolve.py) and arXiv title search
(kg/sources/titles.py). A best candidate must reach `THRESHOLD`; a runner-up within `MARGIN` of it
makes the name ambiguous, reported with its candidates, never guessed. A name shorter than
`MIN_CHARS` letters and digits is never matched fuzzily at all.

The scorer (`name_score`) is rapidfuzz's `ratio` on match keys (case, punctuation, accents and
ligatures ignored), also against the parts of a candidate before and after its first colon
("TurboEdit" meets "TurboEdit: Instant …"), and, for a one-word query, against the candidate's
start with spaces removed, reaching at least `GLUED_MIN` characters into its second word
("StyleAlign" meets "Style Aligned Image Generation …"; "SDXLL" does not meet "SDXL-Lightning"). Names whose
numbers differ never match ("Paper 395" and "Paper 396", "SD 2" and "SD 3").
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process

from kg.text import match_key

T = TypeVar("T", bound=Hashable)
_NUMBER = re.compile(r"\d+")

THRESHOLD = 90.0  # rapidfuzz score (0-100) the best candidate must reach
MARGIN = 3.0  # a runner-up this close to the best makes the name ambiguous
MIN_CHARS = 5  # names with fewer letters and digits are never matched fuzzily
GLUED_MIN = 3  # a glued one-word query must reach this far into the name's second word


def name_score(query: str, name: str) -> float:
    """How well `name` matches `query` (0-100); see the module's docstring."""
    key = match_key(query)
    return score_key(key, name) if key else 0.0


def score_key(key: str, name: str) -> float:
    """`name_score` for a query already turned into its match key."""
    numbers = _NUMBER.findall(key)
    return float(max((fuzz.ratio(key, v) for v in _scored_keys(key, name)
                      if v and _NUMBER.findall(v) == numbers), default=0.0))


@lru_cache(maxsize=1 << 17)
def _variants(name: str) -> tuple[str, ...]:
    """The match keys a name is scored by: the whole, and the parts around its first colon."""
    variants = [match_key(name)]
    if ":" in name:
        head, tail = name.split(":", 1)
        variants += [match_key(head), match_key(tail)]
    return tuple(dict.fromkeys(variants))


@dataclass(frozen=True)
class Pick(Generic[T]):
    """The outcome of matching one name: `choice` when exactly one candidate matches; otherwise
    `candidates` holds the close ones (two or more: ambiguous; none: no match)."""

    choice: T | None = None
    candidates: list[tuple[T, str, float]] = field(default_factory=list)  # (item, name, score), best first

    @property
    def status(self) -> str:
        if self.choice is not None:
            return "matched"
        return "ambiguous" if len(self.candidates) > 1 else "not_found"


def pick_unique(query: str, candidates: Iterable[tuple[T, str]]) -> Pick[T]:
    """The one candidate `query` names, by `name_score`, or the close candidates when several do."""
    key = match_key(query)
    if len(key.replace(" ", "")) < MIN_CHARS:
        return Pick()
    keys: list[str] = []
    owners: list[tuple[T, str]] = []
    for item, name in candidates:
        for variant in _scored_keys(key, name):
            keys.append(variant)
            owners.append((item, name))
    best: dict[T, tuple[float, str]] = {}
    numbers = _NUMBER.findall(key)
    for variant, score, index in process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=THRESHOLD,
                                                 limit=None):
        if _NUMBER.findall(variant) != numbers:
            continue  # "Paper 395" is not "Paper 396", nor "SD 2" "SD 3"
        item, name = owners[index]
        if item not in best or best[item][0] < score:
            best[item] = (float(score), name)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
    if not ranked:
        return Pick()
    top = ranked[0][1][0]
    close = [(item, name, score) for item, (score, name) in ranked if top - score < MARGIN]
    if len(close) > 1:
        return Pick(None, close)
    return Pick(close[0][0], close)


def _scored_keys(key: str, name: str) -> tuple[str, ...]:
    """What `score_key` compares `key` with: the name's variants, and for a one-word query the
    glued start of a name of several words."""
    variants = _variants(name)
    if " " in key or not variants:
        return variants
    words = variants[0].split()
    if len(words) < 2 or len(key) - len(words[0]) < GLUED_MIN:
        return variants  # "sdxll" is not "SDXL L…": the query must reach well into the second word
    return (*variants, "".join(words)[: len(key)])
