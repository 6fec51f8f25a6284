"""`kg build`: the derived stage. Search index first, then the graph with `similar_to` edges from it.

Both `kg build` and the app's first start run these steps; each writes atomically under data/build/.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import networkx as nx

from kg.corpus import Corpus
from kg.errors import StaleIndexError
from kg.graph.build import BuildReport, build_graph, save_graph
from kg.graph.lineage import load_lineage
from kg.model import Edge
from kg.search.encoders import Encoder
from kg.search.engine import build_search_index, load_searcher, similar_edges
from kg.search.index import Manifest
from kg.store import Store

log = logging.getLogger(__name__)

SIMILAR_K = 5  # nearest neighbours kept as `similar_to` edges for each paper
SIMILAR_MIN_SCORE = 0.5  # cosine similarity below which a neighbour is not called similar


@dataclass
class BuildResult:
    manifest: Manifest
    index_rebuilt: bool
    graph: nx.MultiDiGraph
    report: BuildReport


def load_similar_edges(store: Store, corpus: Corpus) -> list[Edge]:
    """`similar_to` edges from the persisted index (no model is loaded); none when it is missing or stale."""
    try:
        searcher = load_searcher(store, corpus=corpus)
    except StaleIndexError as exc:
        log.info("no similar_to edges: %s", exc)
        return []
    return similar_edges(searcher, k=SIMILAR_K, min_score=SIMILAR_MIN_SCORE)


def build_full_graph(store: Store, corpus: Corpus | None = None,
                     report: BuildReport | None = None) -> nx.MultiDiGraph:
    """The knowledge graph: corpus, curated lineage and similarity from the index."""
    corpus = corpus if corpus is not None else Corpus.load(store)
    return build_graph(corpus, load_lineage(store), extra_edges=load_similar_edges(store, corpus),
                       report=report)


def build_all(store: Store, *, encoder: Encoder | None = None, model: str | None = None,
              force: bool = False, progress: bool = False) -> BuildResult:
    """Build (or bring up to date) the search index, then build and save the graph."""
    corpus = Corpus.require(store)
    manifest, rebuilt = build_search_index(store, encoder, corpus=corpus, model=model, force=force,
                                           progress=progress)
    report = BuildReport()
    graph = build_full_graph(store, corpus, report)
    save_graph(store, graph)
    return BuildResult(manifest, rebuilt, graph, report)
