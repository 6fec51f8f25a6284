"""Which records an export covers: named ones, a topic's, everything, a lineage family, or ids
another module chose.

`select_records` takes the union of its selectors. Selections that belong to other modules come
in as plain id lists through `ids`: `lineage_family_ids` (kg.graph.build's `lineage_ids`) feeds
`kg export --lineage`; the hits of kg.search.engine will feed `--query` the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.corpus import Corpus, Record, filter_records
from kg.errors import BadInputError
from kg.graph.build import load_graph
from kg.graph.query import lineage_ids, resolve_node
from kg.store import Store


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
    ids:        record ids chosen elsewhere (a lineage family, search hits): the hook for --lineage/--query
    """
    names, topics, ids = list(names), list(topics), list(ids)
    if not (names or topics or everything or ids):
        raise BadInputError("nothing selected: name papers or systems, or use --topic, --lineage or --all")
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


def lineage_family_ids(store: Store, corpus: Corpus, names: Iterable[str],
                       depth: int | None = None) -> list[str]:
    """The records of each named record's lineage family (ancestors and descendants, within
    `depth` generations), from the graph of the last `kg build` (StaleIndexError when there is none)."""
    names = list(names)
    if not names:
        return []
    graph = load_graph(store)
    family: set[str] = set()
    for name in names:
        family |= lineage_ids(graph, resolve_node(graph, corpus, name), depth)
    return sorted(i for i in family if i in corpus)
