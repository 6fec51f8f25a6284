"""Which sentence of a hit to show, and what matched: the one rule for every mode.

- words: some sentence holds query words (after stemming and stop words). The shown sentence is the
  one with the most query-word weight (summed IDF, scaled to 1 for the best sentence) plus, when there
  is a query vector, its cosine: the words decide, meaning breaks ties. So a note that BM25 matched is
  named as the note, never as the title the query merely resembles.
- meaning: no sentence holds a query word (dense mode, or BM25 matched only an alias or a topic); the
  sentence closest to the query vector.
- name: the query is the record's title or a short name (ranked first, see kg.search.fusion).

Besides the sentence, a hit names the records it builds on (data/lineage.csv) whose names hold query
words: BM25 reads those names, so "models derived from Stable Diffusion" shows "builds on Stable
Diffusion" for SD 2 (`lineage_matches`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kg.search.documents import Sentence, tokenize


@dataclass(frozen=True)
class Evidence:
    index: int  # the sentence's number within its document
    score: float  # cosine (with a query vector), else summed IDF of query words
    matched_by: str  # "words", "meaning" or "name"


def pick_evidence(sentences: Sequence[Sentence], cosines: np.ndarray | None, qtokens: Sequence[str],
                  idf: Callable[[str], float], *, exact_name: bool = False) -> Evidence:
    """The sentence to show for a hit (see the module doc)."""
    weights = {t: idf(t) for t in qtokens}
    overlap = np.array([sum(weights.get(t, 0.0) for t in set(tokenize(s.text))) for s in sentences])
    by = "name" if exact_name else "words"
    if overlap.max(initial=0.0) > 0:
        combined = overlap / overlap.max() + (cosines if cosines is not None else 0.0)
        best = int(np.argmax(combined))
        return Evidence(best, float(cosines[best] if cosines is not None else overlap[best]), by)
    if cosines is not None:
        best = int(np.argmax(cosines))
        return Evidence(best, float(cosines[best]), "name" if exact_name else "meaning")
    return Evidence(0, 0.0, by)


def lineage_matches(parents: Sequence[Sequence[str]], qtokens: Sequence[str]) -> list[str]:
    """For each record a hit builds on (its names) with a name that holds a query word, the shortest such
    name ("SDXL" rather than the SDXL paper's title), in the lineage's order."""
    wanted = set(qtokens)
    found = [[n for n in names if wanted.intersection(tokenize(n))] for names in parents] if wanted else []
    return [min(names, key=len) for names in found if names]


# ---- sentence rows of candidate documents (used while scoring) ----------------------------
def sentence_rows(offsets: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sentence rows of `docs` in order, where each document's rows start in that list, their counts)."""
    starts, ends = offsets[docs], offsets[docs + 1]
    lengths = ends - starts
    seg = np.zeros(len(docs), dtype=np.int64)
    seg[1:] = np.cumsum(lengths)[:-1]
    rows = np.repeat(starts - seg, lengths) + np.arange(int(lengths.sum()))
    return rows, seg, lengths


def first_per_segment(positions: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For sorted `positions` and segment `starts`, the first position in each segment (every segment
    has one: its maximum)."""
    segment = np.searchsorted(starts, positions, side="right") - 1
    keep = np.ones(len(positions), dtype=bool)
    keep[1:] = segment[1:] != segment[:-1]
    return positions[keep]
