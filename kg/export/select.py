"""Which records an export covers: named ones, a topic's, everything, or ids another module chose.

`select_records` takes the union of its selectors. Selections that belong to other modules come
in as plain id lists through `ids`: that is the hook for `kg export --query` (the hits of
`kg.search`) and `--lineage` (a family from `kg.graph`), which the CLI wires once those modules
exist; this module needs to know nothing about them.
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.corpus import Corpus, Record, filter_records
from kg.errors import BadInputError


def select_records(
    corpus: Corpus,
    *,
    names: Iterable[str] = (),
    topics: Iterable[str] = (),
    everything: bool = False,
    ids: Iterable[str] = (),
) -> list[Record]:
    """The union of the selectors, sorted by id; BadInputError when nothing was asked for.

    names:      ids, arXiv ids, aliases, short names or titles (resolved by `corpus.resolve`)
    topics:     reading-list sections whose name contains the text (as `kg list --topic`)
    everything: every paper and system the reading lists list or mention (as `kg list`)
    ids:        record ids chosen elsewhere (search hits, a lineage family): the hook for --query/--lineage
    """
    names, topics, ids = list(names), list(topics), list(ids)
    if not (names or topics or everything or ids):
        raise BadInputError("nothing selected: name papers or systems, or use --topic or --all")
    chosen: set[str] = set()
    if everything:
        chosen |= {r.id for r in filter_records(corpus)}
    chosen |= {corpus.resolve(name) for name in names}
    for topic in topics:
        chosen |= select_topic(corpus, topic)
    for record_id in ids:
        corpus.get(record_id)  # NotFoundError for an id the corpus does not hold
        chosen.add(record_id)
    return [corpus.get(record_id) for record_id in sorted(chosen)]


def select_topic(corpus: Corpus, topic: str) -> set[str]:
    """Ids of records under a section whose name contains `topic` (as `kg list --topic` reads it)."""
    if not topic.strip():
        raise BadInputError("empty topic")
    found = {r.id for r in filter_records(corpus, topic=topic)}
    if found:
        return found
    known = sorted({t for r in corpus.records() for t in r.topics})
    shown = "; ".join(known[:12]) + (" …" if len(known) > 12 else "")
    raise BadInputError(f"no paper or system is listed under topic {topic!r}; topics: {shown or 'none'}")
