"""The graph of a large corpus as tables in DuckDB instead of a networkx graph (docs/scale.md, section 4).

networkx keeps each edge as Python dicts (about 600 bytes an edge): a million papers with five
`similar_to` edges each do not fit in a few GB. Above `kg.graph.build.GRAPH_SQL_THRESHOLD` records,
`kg build` fills a `GraphTable` instead, through the same builder (`kg.graph.build.fill_graph`): the
same nodes and edges by the same rules. Python holds the node list and at most `FLUSH_ROWS` edges;
the rest are in DuckDB, which keeps to `kg.scale.graph_sql.MEMORY_LIMIT` and spills to disk past it.

`seal` turns what was added into the tables `kg.scale.graph_sql.GraphDB` queries (so `kg neighbors`,
`kg path` and `kg lineage` answer from them):

    nodes(nid, id, kind, label, title, year, date, pagerank)
    out_edges(src, dst, key, kind, relation, provenance, evidence, evidence_ref, support, score)  by src
    in_edges(...)                                                                                  by dst
    lineage(src, dst, relation)

A repeated edge (same ends, same key) is dropped there, the first one kept: what networkx's
`has_edge` check in `kg.graph.build.add_edge` keeps. Nodes keep the columns above (not aliases,
status, organisation or a topic's path); edges keep the columns above (not an author's `position`,
a curated row's `comment` or a mention's `alias`). PageRank is kg.graph.rank's, over the same
`cites` and `lineage` edges between records as the networkx graph's.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kg.graph.rank import pagerank
from kg.scale.graph_sql import connect

FLUSH_ROWS = 200_000  # edges held in Python before they go to DuckDB
NODE_COLUMNS = ("id", "kind", "label", "title", "year", "date")
EDGE_COLUMNS = ("src", "dst", "key", "kind", "relation", "provenance", "evidence", "evidence_ref", "support",
                "score")
TEXT_ATTRS = EDGE_COLUMNS[3:-1]  # kind … support: kept as text
EDGE_SCHEMA = pa.schema([pa.field("src", pa.int32()), pa.field("dst", pa.int32())]
                        + [pa.field(c, pa.string()) for c in EDGE_COLUMNS[2:-1]]
                        + [pa.field("score", pa.float64())])
RECORD_KINDS = ("paper", "system")


class GraphTable:
    """Nodes and edges added as to a networkx MultiDiGraph (`in`, `add_node`, `has_edge`, `add_edge`),
    written to the DuckDB file `path` by `seal` (beside it until then: a kill leaves no half file)."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        self.nid: dict[str, int] = {}
        self.nodes: dict[str, list[Any]] = {c: [] for c in NODE_COLUMNS}
        self.edges: dict[str, list[Any]] = {c: [] for c in EDGE_COLUMNS}
        self.added = 0
        self.tmp.unlink(missing_ok=True)
        self.con = connect(self.tmp)
        self.con.register("edge_batch", EDGE_SCHEMA.empty_table())
        self.con.execute("CREATE TABLE raw_edges AS SELECT 0::BIGINT AS seq, * FROM edge_batch")
        self.con.unregister("edge_batch")

    # ---- the networkx calls the builder makes ---------------------------------------------------
    def __contains__(self, node: object) -> bool:
        return node in self.nid

    def __len__(self) -> int:
        return len(self.nid)

    def add_node(self, node: str, **attrs: Any) -> None:
        """A node, once (the builder adds each node once; a second call is ignored)."""
        if node in self.nid:
            return
        self.nid[node] = len(self.nid)
        attrs = {**attrs, "id": node}
        for column in NODE_COLUMNS:
            self.nodes[column].append(attrs.get(column))

    def has_edge(self, source: str, target: str, key: str | None = None) -> bool:
        """Always False here: repeated edges are dropped by `seal`, the first kept (as networkx keeps it)."""
        return False

    def add_edge(self, source: str, target: str, key: str | None = None, **attrs: Any) -> None:
        edges = self.edges
        edges["src"].append(self.nid[source])
        edges["dst"].append(self.nid[target])
        edges["key"].append(None if key is None else str(key))
        for column in TEXT_ATTRS:
            value = attrs.get(column)
            edges[column].append(None if value is None else str(value))
        edges["score"].append(attrs.get("score"))
        if len(edges["src"]) >= FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        n = len(self.edges["src"])
        if not n:
            return
        batch = pa.table({c: self.edges[c] for c in EDGE_COLUMNS}, schema=EDGE_SCHEMA)
        batch = batch.add_column(0, "seq", pa.array(np.arange(self.added, self.added + n, dtype=np.int64)))
        self.con.register("edge_batch", batch)
        self.con.execute("INSERT INTO raw_edges SELECT * FROM edge_batch")
        self.con.unregister("edge_batch")
        self.added += n
        self.edges = {c: [] for c in EDGE_COLUMNS}

    # ---- sealing ---------------------------------------------------------------------------------
    def seal(self) -> tuple[dict[str, int], dict[str, int]]:
        """Write the tables (module doc) and move the file into place; (nodes, edges) counted by kind."""
        try:
            self._flush()
            self.con.execute("""
                CREATE TABLE edges AS SELECT * EXCLUDE (seq) FROM raw_edges
                QUALIFY row_number() OVER (PARTITION BY src, dst, key ORDER BY seq) = 1""")
            self.con.execute("DROP TABLE raw_edges")
            self._write_nodes()
            self.con.execute("CREATE TABLE out_edges AS SELECT * FROM edges ORDER BY src, dst")
            self.con.execute("CREATE TABLE in_edges AS SELECT * FROM edges ORDER BY dst, src")
            self.con.execute("DROP TABLE edges")
            self.con.execute("CREATE TABLE lineage AS SELECT src, dst, relation FROM out_edges "
                             "WHERE kind = 'lineage'")
            counts = self._counts()
            self.con.execute("CHECKPOINT")
        finally:
            self.con.close()
        os.replace(self.tmp, self.path)
        return counts

    def abort(self) -> None:
        self.con.close()
        self.tmp.unlink(missing_ok=True)

    def _write_nodes(self) -> None:
        kinds = self.nodes["kind"]
        is_record = np.fromiter((k in RECORD_KINDS for k in kinds), dtype=bool, count=len(kinds))
        records = np.flatnonzero(is_record)
        position = np.full(len(kinds), -1, dtype=np.int64)
        position[records] = np.arange(len(records))
        flow = self.con.execute("""
            SELECT DISTINCT src, dst FROM edges WHERE kind IN ('cites', 'lineage') ORDER BY src, dst
            """).fetchnumpy()
        src, dst = np.asarray(flow["src"], np.int64), np.asarray(flow["dst"], np.int64)
        keep = is_record[src] & is_record[dst]
        ranks = pagerank(len(records), position[src[keep]], position[dst[keep]])
        column = np.full(len(kinds), np.nan)
        column[records] = ranks
        table = pa.table({"nid": pa.array(np.arange(len(kinds), dtype=np.int32)),
                          **{c: pa.array(self.nodes[c], pa.int32() if c == "year" else pa.string())
                             for c in NODE_COLUMNS},
                          "pagerank": pa.array(column, from_pandas=True)})
        self.con.register("node_batch", table)
        self.con.execute("CREATE TABLE nodes AS SELECT * FROM node_batch ORDER BY nid")
        self.con.unregister("node_batch")

    def _counts(self) -> tuple[dict[str, int], dict[str, int]]:
        nodes = Counter({str(k): int(n) for k, n in self.con.execute(
            "SELECT kind, count(*) FROM nodes GROUP BY kind ORDER BY kind").fetchall()})
        edges = Counter({str(k): int(n) for k, n in self.con.execute(
            "SELECT kind, count(*) FROM out_edges GROUP BY kind ORDER BY kind").fetchall()})
        return dict(nodes), dict(edges)

