"""The one-pass name matcher (Aho-Corasick candidates, then each name's own pattern) finds exactly
what the straightforward matcher found: every name of the same start tried, longest first, at every
word start. Random texts are built from the default corpus's names, varied in the ways the rules
care about (case, spaces, "·"/"-", plural "s", version numbers, glued letters)."""

from __future__ import annotations

import random
import re

import pytest

from kg.corpus import Corpus
from kg.ingest.mentions import (
    _WORD_START,
    Hit,
    NameMatcher,
    _fold_char,
    _start_key,
    compact_key,
    name_pattern,
)
from kg.store import Store
from tests.graph.corpus_fixture import REPO_DATA


class ReferenceMatcher:
    """The old algorithm, kept here only: at each word start, try every name with the same first two
    letters or digits, longest first, each by its own pattern."""

    def __init__(self, matcher: NameMatcher):
        self.owner = matcher.owner
        self.by_start: dict[str, list[re.Pattern[str]]] = {}
        for name in sorted(matcher.rank, key=matcher.rank.__getitem__):
            self.by_start.setdefault(_start_key(name), []).append(re.compile(name_pattern(name)))

    def find(self, text: str) -> list[Hit]:
        hits: list[Hit] = []
        pos = 0
        for start in _WORD_START.finditer(text):
            i = start.start()
            if i < pos:
                continue
            m = next((m for p in self.by_start.get(_start_key(text[i:i + 12]), ()) if (m := p.match(text, i))),
                     None)
            if m is None:
                continue
            key = compact_key(m.group(0))
            rid = self.owner.get(key) or self.owner.get(key[:-1] if key.endswith("s") else "")
            if rid:
                hits.append(Hit(rid, m.group(0), m.start(), m.end()))
                pos = m.end()
        return hits


FILLER = ["the", "model", "of", "and", "with", "2", "v2", "1.5", "2023", "(", ")", ",", ".", ";", "-",
          "based on", "fine-tuned from", "outperforms", "全新", "基于", "LoRA", "s", "x"]


def vary(name: str, rng: random.Random) -> str:
    """`name` as a text might write it."""
    choice = rng.randrange(9)
    if choice == 0:
        return name.lower()
    if choice == 1:
        return name.upper()
    if choice == 2:
        return name.replace(" ", "")
    if choice == 3:
        return name.replace("·", "-").replace("-", rng.choice(["·", "-", " "]))
    if choice == 4:
        return name + rng.choice(["s", "S", " 2", "2", ".1", " 2024", "-XL", "x"])
    if choice == 5:
        return rng.choice(["x", "-", "_", "(", "the "]) + name
    if choice == 6:
        cut = rng.randrange(1, len(name) + 1)
        return name[:cut]
    return name


def random_text(names: list[str], rng: random.Random) -> str:
    parts = [vary(rng.choice(names), rng) if rng.random() < 0.5 else rng.choice(FILLER)
             for _ in range(rng.randrange(1, 25))]
    return rng.choice([" ", "", "  "]).join(parts) if rng.random() < 0.2 else " ".join(parts)


@pytest.fixture(scope="module")
def matchers() -> tuple[NameMatcher, ReferenceMatcher]:
    corpus = Corpus.load(Store.at(REPO_DATA))
    matcher = NameMatcher([*corpus.papers.values(), *corpus.systems.values()])
    return matcher, ReferenceMatcher(matcher)


def test_same_hits_as_the_reference_on_random_texts(matchers: tuple[NameMatcher, ReferenceMatcher]) -> None:
    matcher, reference = matchers
    names = sorted(matcher.rank)
    assert len(names) > 200  # the default corpus, not a toy
    rng = random.Random(20261130)
    found = 0
    for _ in range(3000):
        text = random_text(names, rng)
        hits = matcher.find(text)
        assert hits == reference.find(text), text
        found += len(hits)
    assert found > 3000  # the texts do name records


def test_same_hits_on_the_corpus_notes(matchers: tuple[NameMatcher, ReferenceMatcher]) -> None:
    matcher, reference = matchers
    corpus = Corpus.load(Store.at(REPO_DATA))
    texts = [n.text for r in [*corpus.papers.values(), *corpus.systems.values()] for n in r.notes]
    texts += [p.summary for p in corpus.papers.values() if p.summary]
    assert len(texts) > 50
    assert [matcher.find(t) for t in texts] == [reference.find(t) for t in texts]


def test_no_names_finds_nothing() -> None:
    assert NameMatcher([]).find("DDPM and LDM") == []


def test_candidate_folding_agrees_with_case_insensitive_regex() -> None:
    """Two characters an (?i) pattern takes as equal fold alike, else a candidate would be missed."""
    cased = "".join(c for c in map(chr, range(0x30000))
                    if not 0xD800 <= ord(c) < 0xE000 and (c.lower() != c or c.upper() != c or c.casefold() != c))
    for a in cased:
        for m in re.finditer("(?i)" + re.escape(a), cased):
            assert _fold_char(a) == _fold_char(m.group(0)), (a, m.group(0))
