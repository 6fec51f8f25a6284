"""Abbreviations the corpus itself defines, so that a query which spells a name out also finds the papers
that use its short form, and back: "generative adversarial networks" matches "BigGAN … GAN training",
"VAE" matches "variational autoencoders".

Definitions are found with the Schwartz–Hearst algorithm (the `abbreviations` package): a short form in
parentheses after the words it abbreviates, "Generative Adversarial Networks (GANs)". Nothing is
hand-written: a corpus that never defines "GAN" gets no expansion for it. When a short form is defined
more than once, its most common definition wins. Pairs are kept as BM25 tokens (kg.search.documents.
tokenize): the long form a token sequence, the short form one token.

`Abbreviations.expand(tokens)` adds, for a query, the short form of every long form it contains (as
consecutive tokens) and the long form of every short form it holds; the BM25 index stores the pairs it
was built with (kg.search.bm25), so a query process needs no document to expand.

An expanded pair is one concept written two ways, so BM25 scores it once (`Abbreviations.concepts`, read
by kg.search.bm25): a document gets the better of its score for the long form's words and its score for
the short form weighed as the whole long form (the short form's score times the long form's summed idf
over the short form's idf). Adding the two would count a document that writes the name both ways twice,
and one that writes only "GAN" as a third of one that writes "generative adversarial network".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from kg.search.documents import tokenize

MAX_SHORT_CHARS = 10
WINDOW_CHARS = 300  # text read before a candidate: the algorithm looks back at most 20 words
# a candidate: a parenthesis with a capital letter in it, "(GANs)", "(DiT)"
_CANDIDATE = re.compile(rf"\([^()]{{0,{MAX_SHORT_CHARS}}}[A-Z][^()]{{0,{MAX_SHORT_CHARS}}}\)")

Pair = tuple[tuple[str, ...], str]  # (long form's tokens, short form's token)


def find_abbreviations(texts: Iterable[str]) -> list[Pair]:
    """The abbreviation pairs defined in `texts`, as BM25 tokens, sorted (deterministic)."""
    lines = [window for text in texts for window in _windows(text)]
    if not lines:
        return []
    from abbreviations.schwartz_hearst import extract_abbreviation_definition_pairs  # builds only

    found = extract_abbreviation_definition_pairs(doc_text="\n".join(lines), most_common_definition=True)
    pairs: dict[str, tuple[str, ...]] = {}
    for short, long in sorted(found.items()):
        pair = _as_tokens(short, long)
        if pair is not None:
            pairs.setdefault(pair[1], pair[0])  # "DDPM" and "DDPMs" are one token: the first spelling wins
    return sorted((long, short) for short, long in pairs.items())


def _windows(text: str) -> list[str]:
    """Each candidate with the text before it on its line, back to the previous parenthesis or
    WINDOW_CHARS (so the algorithm reads a few hundred characters per candidate, not whole texts)."""
    out = []
    for m in _CANDIDATE.finditer(text):
        start = max(m.start() - WINDOW_CHARS, text.rfind("\n", 0, m.start()) + 1,
                    text.rfind("(", 0, m.start()) + 1, text.rfind(")", 0, m.start()) + 1)
        out.append(text[start:m.end()])
    return out


def _as_tokens(short: str, long: str) -> Pair | None:
    """(long tokens, short token) when the pair is a name worth expanding: a short form with a capital
    letter and one token, a long form of two tokens or more that does not already hold it."""
    if not any(c.isupper() for c in short) or len(short) > MAX_SHORT_CHARS:
        return None
    short_tokens, long_tokens = tokenize(short), tuple(tokenize(long))
    if len(short_tokens) != 1 or len(long_tokens) < 2 or short_tokens[0] in long_tokens:
        return None
    return long_tokens, short_tokens[0]


class Abbreviations:
    """Pairs looked up by short form and by the first token of their long form."""

    def __init__(self, pairs: Sequence[Pair] = ()):
        self.pairs = list(pairs)
        self.by_short = {short: long for long, short in self.pairs}
        self.by_first: dict[str, list[Pair]] = {}
        for long, short in self.pairs:
            self.by_first.setdefault(long[0], []).append((long, short))

    def __len__(self) -> int:
        return len(self.pairs)

    def concepts(self, tokens: Sequence[str]) -> list[Pair]:
        """The pairs whose short form and every long-form token are all among `tokens` (as `expand`
        leaves a query that names either form), each once, in pair order."""
        present = set(tokens)
        return [(long, short) for long, short in self.pairs
                if short in present and all(t in present for t in long)]

    def expand(self, tokens: Sequence[str]) -> list[str]:
        """`tokens`, then the short form of each long form they contain (as consecutive tokens) and the
        long form of each short form they hold; every added token once."""
        out = list(tokens)
        seen = set(out)
        for i, token in enumerate(tokens):
            added = list(self.by_short.get(token, ()))
            added += [short for long, short in self.by_first.get(token, ())
                      if tuple(tokens[i:i + len(long)]) == long]
            for new in added:
                if new not in seen:
                    seen.add(new)
                    out.append(new)
        return out
