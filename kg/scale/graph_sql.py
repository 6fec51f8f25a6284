"""The graph at scale: edges held in DuckDB over the corpus's Parquet, queried in SQL.

networkx keeps every edge as Python dicts (about 1 KB an edge; docs/scale.md): fine for reading
lists, not for a million papers with their citations. Here a Parquet corpus folder (papers/, edges/)
becomes one DuckDB file with integer node numbers:

    nodes(nid, id, title, year)            one row per paper and per edge end
    out_edges(src, dst, kind, relation, provenance)   sorted by src: a node's edges are a few row groups
    in_edges(...)                          the same rows sorted by dst

DuckDB's zone maps skip every row group but the ones holding a node, so a neighbour lookup reads
kilobytes, and its buffer manager keeps memory under `memory_limit` (spilling to disk past it).

- `neighbors`: two range lookups;
- `lineage`: a recursive query (WITH RECURSIVE) over the lineage edges, up or down, to a depth;
- `find_path`: the shortest chain over the chosen kinds, direction ignored (a breadth-first search
  from both ends, each step one SQL join of the frontier with the edges; networkx's `kg path` also
  weighs edge kinds and prefers a line of descent, which this one does not).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from kg.errors import AmbiguousError, BadInputError, NotFoundError

MEMORY_LIMIT = "1GB"  # DuckDB's buffer pool: past it, DuckDB spills to disk instead of growing
MAX_PATH_HOPS = 8
LINEAGE_DEPTH = 32


@dataclass(frozen=True)
class SqlNeighbor:
    id: str
    kind: str
    direction: str  # out: the queried node cites / derives from it; in: the other way
    relation: str | None


@dataclass(frozen=True)
class SqlHop:
    source: str
    target: str
    kind: str
    relation: str | None


def connect(path: Path | None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path) if path else ":memory:", read_only=read_only)
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    con.execute(f"SET threads = {max(1, min(4, os.cpu_count() or 1))}")
    return con


def build_graph_db(corpus: Path, out: Path) -> Path:
    """The DuckDB file of a Parquet corpus folder (papers/ and edges/), written beside `out` and moved
    into place (a kill leaves the old file or the new)."""
    if not (corpus / "edges").is_dir():
        raise BadInputError("not a Parquet corpus folder (no edges/ inside)", str(corpus))
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = connect(tmp)
    try:
        _load(con, corpus)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, out)
    return out


def _load(con: duckdb.DuckDBPyConnection, corpus: Path) -> None:
    edges = str(corpus / "edges" / "*.parquet")
    papers = corpus / "papers"
    has_papers = papers.is_dir() and any(papers.glob("*.parquet"))
    paper_rows = (f"SELECT id, title, TRY_CAST(substr(published, 1, 4) AS INTEGER) AS year "
                  f"FROM read_parquet('{papers / '*.parquet'}')") if has_papers else \
        "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS title, NULL::INTEGER AS year WHERE false"
    con.execute(f"""
        CREATE TABLE nodes AS
        WITH ids AS (SELECT id FROM ({paper_rows}) UNION SELECT source FROM read_parquet('{edges}')
                     UNION SELECT target FROM read_parquet('{edges}'))
        SELECT (row_number() OVER (ORDER BY ids.id))::INTEGER - 1 AS nid, ids.id, p.title, p.year
        FROM ids LEFT JOIN ({paper_rows}) p USING (id) ORDER BY nid""")
    con.execute(f"""
        CREATE TABLE out_edges AS
        SELECT s.nid AS src, t.nid AS dst, e.kind, e.relation, e.provenance
        FROM read_parquet('{edges}') e JOIN nodes s ON s.id = e.source JOIN nodes t ON t.id = e.target
        ORDER BY src, dst""")
    con.execute("CREATE TABLE in_edges AS SELECT * FROM out_edges ORDER BY dst, src")
    con.execute("CREATE TABLE lineage AS SELECT src, dst, relation FROM out_edges WHERE kind = 'lineage'")


class GraphDB:
    """Read-only queries over a file written by `build_graph_db`."""

    def __init__(self, path: Path):
        if not path.exists():
            raise BadInputError("no graph database: run `kg parquet graph` first", str(path))
        self.con = connect(path, read_only=True)
        self.node_columns = {str(r[0]) for r in self.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'nodes'").fetchall()}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> GraphDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- names -----------------------------------------------------------------------------
    def nid(self, name: str) -> int:
        """The node number of an id, else of the one node with that exact title or (in `kg build`'s
        tables) short name, case ignored; AmbiguousError when several have it, NotFoundError when none."""
        found = self.con.execute("SELECT nid FROM nodes WHERE id = ?", [name]).fetchall()
        if found:
            return int(found[0][0])
        for column in ("title", "label"):
            if column not in self.node_columns:
                continue
            rows = self.con.execute(f"SELECT nid, id FROM nodes WHERE lower({column}) = lower(?) ORDER BY id "
                                    "LIMIT 6", [name]).fetchall()
            if len(rows) > 1:
                raise AmbiguousError(name, [str(r[1]) for r in rows])
            if rows:
                return int(rows[0][0])
        raise NotFoundError(name)

    def ids(self, nids: Sequence[int]) -> list[str]:
        rows = dict(self.con.execute("SELECT nid, id FROM nodes WHERE nid IN (SELECT unnest(?))",
                                     [list(nids)]).fetchall())
        return [str(rows[n]) for n in nids]

    # ---- queries ---------------------------------------------------------------------------
    def neighbors(self, name: str, kinds: Sequence[str] | None = None) -> list[SqlNeighbor]:
        """Every edge at the node (of `kinds`, default all): out edges first, then in edges."""
        nid = self.nid(name)
        kind_filter = "AND e.kind IN (SELECT unnest(?))" if kinds else ""
        args: list[Any] = [nid, list(kinds)] if kinds else [nid]
        rows = self.con.execute(f"""
            SELECT n.id, e.kind, 'out', e.relation FROM out_edges e JOIN nodes n ON n.nid = e.dst
            WHERE e.src = ? {kind_filter}
            UNION ALL
            SELECT n.id, e.kind, 'in', e.relation FROM in_edges e JOIN nodes n ON n.nid = e.src
            WHERE e.dst = ? {kind_filter}
            ORDER BY 3 DESC, 2, 1""", args + args).fetchall()
        return [SqlNeighbor(str(a), str(b), str(c), d) for a, b, c, d in rows]

    def lineage(self, name: str, *, up: bool = True, depth: int | None = None) -> list[tuple[str, int]]:
        """(id, generation) of the node's ancestors (`up`) or descendants, nearest first, within `depth`
        generations (default LINEAGE_DEPTH), in one recursive SQL query."""
        nid = self.nid(name)
        depth = depth or LINEAGE_DEPTH
        near, far = ("src", "dst") if up else ("dst", "src")
        rows = self.con.execute(f"""
            WITH RECURSIVE family(nid, generation) AS (
                SELECT ?::INTEGER, 0
                UNION
                SELECT l.{far}, f.generation + 1 FROM family f JOIN lineage l ON l.{near} = f.nid
                WHERE f.generation < ?)
            SELECT n.id, min(f.generation) AS g FROM family f JOIN nodes n USING (nid)
            WHERE f.nid <> ? GROUP BY n.id ORDER BY g, n.id""", [nid, depth, nid]).fetchall()
        return [(str(i), int(g)) for i, g in rows]

    def find_path(self, start: str, end: str, via: Sequence[str] = ("lineage", "cites"),
                  max_hops: int = MAX_PATH_HOPS) -> list[SqlHop]:
        """The hops of a shortest chain between two nodes over `via` edges, either direction."""
        a, b = self.nid(start), self.nid(end)
        if a == b:
            raise BadInputError("a path needs two different records")
        parents = _bidirectional_bfs(self, a, b, list(via), max_hops)
        if parents is None:
            raise NotFoundError(f"no path between {start} and {end} within {max_hops} hops over "
                                f"{', '.join(via)} edges")
        return self._hops(parents, list(via))

    def _hops(self, order: list[int], via: list[str]) -> list[SqlHop]:
        names = dict(zip(order, self.ids(order), strict=True))
        hops = []
        for u, v in zip(order, order[1:], strict=False):
            rows = self.con.execute("""
                SELECT src, dst, kind, relation FROM out_edges
                WHERE ((src = ? AND dst = ?) OR (src = ? AND dst = ?)) AND kind IN (SELECT unnest(?))
                ORDER BY kind, relation LIMIT 1""", [u, v, v, u, via]).fetchall()
            row = rows[0] if rows else None
            if row is None:
                raise BadInputError(f"graph database changed during the query ({names[u]} - {names[v]})")
            hops.append(SqlHop(names[int(row[0])], names[int(row[1])], str(row[2]), row[3]))
        return hops

    def expand(self, frontier: np.ndarray, via: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(from, to) of every `via` edge at a frontier node, either direction: one SQL join."""
        self.con.register("frontier", pa.table({"nid": pa.array(frontier, pa.int32())}))
        try:
            rel = self.con.execute("""
                SELECT e.src AS a, e.dst AS b FROM out_edges e JOIN frontier f ON e.src = f.nid
                WHERE e.kind IN (SELECT unnest(?))
                UNION ALL
                SELECT e.dst, e.src FROM in_edges e JOIN frontier f ON e.dst = f.nid
                WHERE e.kind IN (SELECT unnest(?))""", [via, via]).fetchnumpy()
        finally:
            self.con.unregister("frontier")
        return np.asarray(rel["a"], dtype=np.int64), np.asarray(rel["b"], dtype=np.int64)


def _bidirectional_bfs(db: GraphDB, a: int, b: int, via: list[str], max_hops: int) -> list[int] | None:
    """The node numbers of a shortest a..b chain, growing the smaller side one whole level at a time."""
    parent: list[dict[int, int]] = [{a: a}, {b: b}]
    depth: list[dict[int, int]] = [{a: 0}, {b: 0}]
    frontier = [np.array([a]), np.array([b])]
    for _ in range(max_hops):
        side = 0 if len(frontier[0]) <= len(frontier[1]) else 1
        if len(frontier[side]) == 0:
            return None
        src, dst = db.expand(frontier[side], via)
        found: list[int] = []
        for u, v in zip(src.tolist(), dst.tolist(), strict=True):
            if v not in parent[side]:
                parent[side][v], depth[side][v] = u, depth[side][u] + 1
                found.append(v)
        frontier[side] = np.array(found, dtype=np.int64)
        meets = [n for n in found if n in parent[1 - side]]
        if meets:  # every meet of this level is as far from this side: take the nearest to the other
            return _join(parent, min(meets, key=lambda n: (depth[1 - side][n], n)))
    return None


def _join(parent: list[dict[int, int]], meet: int) -> list[int]:
    def walk(side: int) -> list[int]:
        chain, node = [meet], meet
        while parent[side][node] != node:
            node = parent[side][node]
            chain.append(node)
        return chain

    return walk(0)[::-1] + walk(1)[1:]
