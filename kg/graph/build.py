"""The knowledge graph: typed nodes and edges, each edge with its provenance.

`build_graph(corpus, lineage_rows, extra_edges)` returns a `networkx.MultiDiGraph`:

nodes   paper | system (the record's id), author (`author:<slug>`), topic (`topic:<section path>`)
edges   source -> target, attribute `kind`:
        lineage       child -> parent: `relation`, `evidence`, `evidence_ref` (file:line), `support`
                      (stated | named | placement from data/lineage.csv; extracted from notes)
        mentions      the record whose note names another -> the named one, with the sentence
        cites         citing -> cited (stored edges, Semantic Scholar), when present
        described_in  system -> the paper that describes the release
        authored_by   paper -> author (with `position`)
        listed_under  record -> topic (the reading-list section)
        similar_to    from the search index (passed as `extra_edges`), with `score`

Every edge has a `provenance`; an edge with none is never added. Queries (lineage trees, paths,
neighbours, family subgraphs) are in `kg.graph.query`.

`fill_graph` is the one builder: it adds those nodes and edges to a networkx graph (`build_graph`) or,
for a corpus of more than GRAPH_SQL_THRESHOLD records, to DuckDB tables (`build_graph_table`,
kg.graph.table; docs/scale.md). `kg build` picks by size (`build_and_save`); `open_graph` gives back
either, and `kg neighbors`, `kg path` and `kg lineage` answer from both.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import networkx as nx
import numpy as np

from kg.corpus import Corpus, Record
from kg.errors import BadInputError, KGError, StaleIndexError
from kg.graph.extract import extract_relations, merge_extracted
from kg.graph.query import EDGE_KINDS
from kg.graph.rank import pagerank
from kg.ingest.mentions import GENERIC_NAMES
from kg.lineage import LineageRow, load_lineage, unresolved_rows
from kg.model import Edge, Paper, System
from kg.store import Store, digest_files, read_json, write_json
from kg.text import compact_key, slugify

if TYPE_CHECKING:  # DuckDB (the `scale` extra) loads only for a corpus above GRAPH_SQL_THRESHOLD
    from kg.graph.table import GraphTable
    from kg.scale.graph_sql import GraphDB

log = logging.getLogger(__name__)

GraphSink: TypeAlias = "nx.MultiDiGraph[str] | GraphTable"  # what `fill_graph` adds nodes and edges to

GRAPH_FILE = "graph.json"
GRAPH_FORMAT = 1  # bump when the graph's shape changes: a persisted graph of another format is stale
GRAPH_DB_FILE = "graph.duckdb"  # the graph of a corpus above GRAPH_SQL_THRESHOLD (kg.graph.table)
GRAPH_SQL_THRESHOLD = 100_000  # records (papers + systems) above which `kg build` keeps the graph in DuckDB
CENTRALITY_KINDS = ("cites", "lineage")


class GraphInDuckDBError(KGError):
    """The build keeps its graph in DuckDB (a corpus above GRAPH_SQL_THRESHOLD records): a view that
    needs the networkx graph cannot use it."""


@dataclass
class BuildReport:
    """What a build did: counts, curated rows it could not place, extracted edges it dropped."""

    nodes: dict[str, int] = field(default_factory=dict)
    edges: dict[str, int] = field(default_factory=dict)
    unresolved: list[LineageRow] = field(default_factory=list)
    dropped: list[tuple[Edge, str]] = field(default_factory=list)
    seconds: float = 0.0


# ---- building --------------------------------------------------------------------------------
def build_graph(corpus: Corpus, lineage_rows: Iterable[LineageRow] = (), extra_edges: Iterable[Edge] = (),
                *, extract: bool = True, report: BuildReport | None = None) -> nx.MultiDiGraph[str]:
    """The graph of `corpus` in networkx: records, authors, topics, and every edge a source supports
    (`fill_graph`), with each record's PageRank."""
    started = time.perf_counter()
    report = report if report is not None else BuildReport()
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(name="paper-kg")
    fill_graph(graph, corpus, lineage_rows, extra_edges, extract=extract, report=report)
    for node, rank in centrality(graph).items():
        graph.nodes[node]["pagerank"] = rank
    report.nodes = dict(Counter(str(a.get("kind")) for _, a in graph.nodes(data=True)))
    report.edges = dict(Counter(str(a.get("kind")) for _, _, a in graph.edges(data=True)))
    report.seconds = time.perf_counter() - started
    return graph


def build_graph_table(path: Path, corpus: Corpus, lineage_rows: Iterable[LineageRow] = (),
                      extra_edges: Iterable[Edge] = (), *, report: BuildReport | None = None) -> None:
    """The same graph as `build_graph`, written as DuckDB tables to `path` (kg.graph.table): for a
    corpus too large for networkx. BadInputError when DuckDB (the `scale` extra) is not installed."""
    try:
        from kg.graph.table import GraphTable
    except ImportError as exc:
        raise BadInputError(f"a corpus of {len(corpus):,} records keeps its graph in DuckDB, which is not "
                            "installed: pip install -e '.[scale]'") from exc
    started = time.perf_counter()
    report = report if report is not None else BuildReport()
    table = GraphTable(path)
    try:
        fill_graph(table, corpus, lineage_rows, extra_edges, report=report)
        report.nodes, report.edges = table.seal()
    except BaseException:
        table.abort()
        raise
    report.seconds = time.perf_counter() - started


def fill_graph(graph: GraphSink, corpus: Corpus, lineage_rows: Iterable[LineageRow] = (),
               extra_edges: Iterable[Edge] = (), *, extract: bool = True,
               report: BuildReport | None = None) -> None:
    """Add the records, authors, topics and every edge a source supports to `graph` (networkx, or a
    kg.graph.table.GraphTable: the one builder of both).

    Curated rows naming a record the corpus lacks are skipped (and listed in `report`); extracted
    lineage never duplicates or contradicts a curated row.
    """
    report = report if report is not None else BuildReport()
    for record in corpus.records():
        _add_record(graph, record)
    for record in corpus.records():
        _add_topics(graph, record)
        if isinstance(record, Paper):
            _add_authors(graph, record)
        elif record.described_in:
            _add_described_in(graph, record)
    extracted_mentions = _add_lineage(graph, corpus, list(lineage_rows), extract, report)
    _add_mentions(graph, corpus, extracted_mentions)
    for edge in corpus.edges:
        _add_stored_edge(graph, edge)
    for edge in extra_edges:
        _add_stored_edge(graph, edge)


def add_edge(graph: GraphSink, source: str, target: str, kind: str, provenance: str | None,
             key: str | None = None, **attrs: Any) -> bool:
    """Add one edge with its provenance (None-valued attributes left out); False when it has no
    provenance, an end is not a node, or the same edge is already there (a GraphTable drops repeats
    when it is sealed)."""
    if not provenance or source not in graph or target not in graph or source == target:
        return False
    key = key or kind
    if graph.has_edge(source, target, key):
        return False
    clean = {k: v for k, v in attrs.items() if v is not None and v != ""}
    graph.add_edge(source, target, key, kind=kind, provenance=provenance, **clean)
    return True


def _add_record(graph: GraphSink, record: Record) -> None:
    attrs: dict[str, Any] = {"kind": record.kind, "label": record.label, "title": record.title,
                             "status": record.status, "aliases": list(record.aliases)}
    if record.published:
        attrs["date"] = record.published
    if record.year:
        attrs["year"] = record.year
    if isinstance(record, System) and record.organisation:
        attrs["organisation"] = record.organisation
    graph.add_node(record.id, **attrs)


def _add_topics(graph: GraphSink, record: Record) -> None:
    for topic in record.topics:
        tid = f"topic:{topic}"
        if tid not in graph:
            graph.add_node(tid, kind="topic", label=topic.split(">")[-1].strip(), path=topic)
        listing = next((x for x in record.listings if x.section and (x.section == topic or
                                                                    topic.endswith(x.section))), None)
        where = f"list:{listing.file}:{listing.line}" if listing else "list"
        add_edge(graph, record.id, tid, "listed_under", where,
                 evidence_ref=f"{listing.file}:{listing.line}" if listing else None)


def _add_authors(graph: GraphSink, paper: Paper) -> None:
    source = paper.provenance.get("authors", "metadata")
    for position, name in enumerate(paper.authors, 1):
        aid = f"author:{slugify(name)}"
        if aid not in graph:
            graph.add_node(aid, kind="author", label=name)
        add_edge(graph, paper.id, aid, "authored_by", source, position=position)


def _add_described_in(graph: GraphSink, system: System) -> None:
    listing = next((x for x in system.listings if x.title), None)
    source = system.provenance.get("described_in") or (
        f"list:{listing.file}:{listing.line}" if listing else "systems")
    add_edge(graph, system.id, system.described_in or "", "described_in", source,
             evidence=" ".join(x for x in (listing.short_name, listing.title) if x) if listing else None,
             evidence_ref=f"{listing.file}:{listing.line}" if listing else None)


def _add_lineage(graph: GraphSink, corpus: Corpus, rows: list[LineageRow], extract: bool,
                 report: BuildReport) -> list[Edge]:
    """Curated rows, then extracted lineage that agrees with them; returns the extracted mentions."""
    report.unresolved = unresolved_rows(rows, corpus.papers.keys() | corpus.systems.keys())
    for row in report.unresolved:
        log.warning("lineage.csv:%d: %s -> %s names a record the corpus lacks; skipped",
                    row.row, row.child, row.parent)
    placed = [r for r in rows if r not in report.unresolved]
    for row in placed:
        add_edge(graph, row.child, row.parent, "lineage", row.provenance, relation=row.relation,
                 evidence=row.evidence, evidence_ref=row.ref, support=row.support, comment=row.comment)
    if not extract:
        return []
    found = extract_relations(corpus.records())
    kept, report.dropped = merge_extracted([r.to_edge() for r in placed], found.lineage)
    for e in kept:
        add_edge(graph, e.source, e.target, "lineage", e.provenance, relation=e.relation,
                 evidence=e.evidence, evidence_ref=e.evidence_ref, support="extracted")
    return found.mentions


def _add_mentions(graph: GraphSink, corpus: Corpus, extracted: list[Edge]) -> None:
    """Mentions ingestion recorded (the named record keeps who named it), then extracted ones.
    A generic word that a record carries as an alias ("GANs", "SDEs") is no evidence of the paper."""
    for record in corpus.records():
        for m in record.mentions:
            if m.by and compact_key(m.alias) not in GENERIC_NAMES:
                ref = f"{m.file}:{m.line}"
                add_edge(graph, m.by, record.id, "mentions", f"list:{ref}", key=f"mentions@{ref}",
                         evidence=m.sentence, evidence_ref=ref, alias=m.alias)
    for e in extracted:
        add_edge(graph, e.source, e.target, "mentions", e.provenance, key=f"mentions@{e.evidence_ref}",
                 evidence=e.evidence, evidence_ref=e.evidence_ref)


def _add_stored_edge(graph: GraphSink, edge: Edge) -> None:
    """A stored or supplied edge (cites, similar_to …); lineage comes only from curation/extraction."""
    if edge.kind not in EDGE_KINDS or edge.kind == "lineage":
        log.debug("stored edge of kind %r skipped", edge.kind)
        return
    add_edge(graph, edge.source, edge.target, edge.kind, edge.provenance, relation=edge.relation,
             evidence=edge.evidence, evidence_ref=edge.evidence_ref, score=edge.score)


# ---- metrics -------------------------------------------------------------------------------------
def centrality(graph: nx.MultiDiGraph[str], kinds: Iterable[str] = CENTRALITY_KINDS) -> dict[str, float]:
    """PageRank (kg.graph.rank) of every paper and system over `cites` and `lineage` edges (citing ->
    cited, child -> parent: rank flows to the work others build on). Sums to 1 over the records."""
    kinds = set(kinds)
    records = [n for n, a in graph.nodes(data=True) if a.get("kind") in ("paper", "system")]
    number = {n: i for i, n in enumerate(records)}
    pairs = sorted({(number[u], number[v]) for u, v, a in graph.edges(data=True)
                    if a.get("kind") in kinds and u in number and v in number})
    src = np.array([u for u, _ in pairs], dtype=np.int64)
    dst = np.array([v for _, v in pairs], dtype=np.int64)
    return dict(zip(records, pagerank(len(records), src, dst).tolist(), strict=True))


# ---- persistence ---------------------------------------------------------------------------------
def graph_inputs_digest(store: Store) -> str:
    """What a persisted graph was built from: the snapshot files, lineage.csv, the search index
    (its `similar_to` edges) and the format."""
    paths = [store.papers_path, store.systems_path, store.edges_path, store.lineage_path,
             store.search_manifest_path]
    return f"{GRAPH_FORMAT}:{digest_files(paths)}"


def build_from_store(store: Store, corpus: Corpus | None = None,
                     report: BuildReport | None = None) -> nx.MultiDiGraph[str]:
    """The graph of the store's corpus and curated lineage, without `similar_to` edges (for tests and
    tools; `kg build` builds the full graph through kg.pipeline)."""
    corpus = corpus if corpus is not None else Corpus.load(store)
    return build_graph(corpus, load_lineage(store), report=report)


def build_and_save(store: Store, corpus: Corpus, lineage_rows: Iterable[LineageRow] = (),
                   extra_edges: Iterable[Edge] = (), *, report: BuildReport | None = None,
                   sql_above: int = GRAPH_SQL_THRESHOLD) -> nx.MultiDiGraph[str] | None:
    """`kg build`'s graph under `store.build_dir`: up to `sql_above` records, networkx saved as node-link
    JSON (returned); above, the DuckDB tables of kg.graph.table in graph.duckdb, with graph.json saying
    so (None returned). Either is stamped with its inputs."""
    if len(corpus) <= sql_above:
        graph = build_graph(corpus, lineage_rows, extra_edges, report=report)
        save_graph(store, graph)
        return graph
    build_graph_table(store.build_path(GRAPH_DB_FILE), corpus, lineage_rows, extra_edges, report=report)
    write_json(store.build_path(GRAPH_FILE), {"format": GRAPH_FORMAT, "inputs": graph_inputs_digest(store),
                                              "backend": "duckdb", "file": GRAPH_DB_FILE,
                                              "records": len(corpus), "threshold": sql_above})
    return None


def save_graph(store: Store, graph: nx.MultiDiGraph[str]) -> None:
    """Persist the graph as node-link JSON under the build folder, stamped with its inputs."""
    data = {"format": GRAPH_FORMAT, "inputs": graph_inputs_digest(store),
            "graph": nx.node_link_data(graph, edges="edges")}
    write_json(store.build_path(GRAPH_FILE), data)


def load_graph(store: Store) -> nx.MultiDiGraph[str]:
    """The persisted networkx graph; StaleIndexError ("run `kg build`") when there is none, it is damaged,
    or its inputs have changed since; GraphInDuckDBError when the build keeps it in DuckDB. Never a
    graph built on the spot with less in it."""
    graph = open_graph(store)
    if not isinstance(graph, nx.MultiDiGraph):
        graph.close()
        raise GraphInDuckDBError(
            f"this build keeps its graph in DuckDB (the corpus has more than {GRAPH_SQL_THRESHOLD:,} "
            "records): `kg neighbors`, `kg path` and `kg lineage` answer from it; this needs the "
            "networkx graph of a smaller corpus")
    return graph


def open_graph(store: Store) -> nx.MultiDiGraph[str] | GraphDB:
    """The persisted graph: networkx, or for a corpus above the threshold a kg.scale.graph_sql.GraphDB
    over graph.duckdb (close it). StaleIndexError as `load_graph`."""
    path = store.build_path(GRAPH_FILE)
    if not path.exists():
        raise StaleIndexError("no graph has been built yet: run `kg build`")
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise StaleIndexError(f"{path} is damaged ({type(exc).__name__}): run `kg build`") from exc
    if not isinstance(data, dict) or data.get("inputs") != graph_inputs_digest(store):
        raise StaleIndexError("the graph is older than the corpus, lineage.csv or the search index: "
                              "run `kg build`")
    if data.get("backend") == "duckdb":
        from kg.scale.graph_sql import GraphDB

        return GraphDB(store.build_path(GRAPH_DB_FILE))
    try:
        graph = nx.node_link_graph(data["graph"], directed=True, multigraph=True, edges="edges")
    except Exception as exc:  # noqa: BLE001 - networkx raises many kinds on a malformed graph
        raise StaleIndexError(f"{path} is damaged ({type(exc).__name__}): run `kg build`") from exc
    if not isinstance(graph, nx.MultiDiGraph):  # the file's own "directed"/"multigraph" flags win
        raise StaleIndexError(f"{path} is damaged (not a directed multigraph): run `kg build`")
    return graph


# ---- export --------------------------------------------------------------------------------------
def _safe_value(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def graphml_safe(graph: nx.MultiDiGraph[str]) -> nx.MultiDiGraph[str]:
    """A copy whose attributes GraphML can hold: no None; lists and dicts as JSON strings."""
    out: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    out.graph.update({k: _safe_value(v) for k, v in graph.graph.items() if v is not None})
    for node, attrs in graph.nodes(data=True):
        out.add_node(node, **{k: _safe_value(v) for k, v in attrs.items() if v is not None})
    for u, v, key, attrs in graph.edges(keys=True, data=True):
        out.add_edge(u, v, key=key, **{k: _safe_value(x) for k, x in attrs.items() if x is not None})
    return out


def render_graphml(graph: nx.MultiDiGraph[str]) -> str:
    """GraphML for Gephi, Cytoscape or yEd."""
    return "\n".join(nx.generate_graphml(graphml_safe(graph))) + "\n"


def render_node_link(graph: nx.MultiDiGraph[str]) -> str:
    """Node-link JSON (d3, Cytoscape.js, `networkx.node_link_graph(…, edges="edges")`)."""
    return json.dumps(nx.node_link_data(graph, edges="edges"), ensure_ascii=False, indent=2) + "\n"
