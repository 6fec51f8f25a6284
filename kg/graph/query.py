"""Queries over the knowledge graph built by `kg.graph.build`: lineage trees, family subgraphs, explained
paths and neighbourhoods. Plain functions over `networkx` graphs; nothing here draws or prints.

Lineage edges point from child to parent ("SDXL extends LDM": SDXL -> LDM), so `up` follows them
(ancestors) and `down` walks them backwards (descendants).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import networkx as nx

from kg.corpus import Corpus
from kg.errors import BadInputError, KGError, NotFoundError
from kg.text import compact_key

EDGE_KINDS = ("lineage", "described_in", "cites", "mentions", "similar_to", "authored_by", "listed_under")
PATH_KINDS = ("lineage", "described_in")
# The cost of a hop: paths prefer lineage, and lineage the list states in words.
KIND_COST = {"lineage": 1.0, "described_in": 1.0, "cites": 1.5, "similar_to": 2.0, "mentions": 2.0,
             "authored_by": 3.0, "listed_under": 3.0}
SUPPORT_COST = {"stated": 1.0, "extracted": 1.2, "named": 1.3, "placement": 1.6}
EDGE_FIELDS = ("relation", "evidence", "evidence_ref", "provenance", "support", "score", "comment")
Direction = Literal["up", "down", "both"]


class NoPathError(KGError):
    """Two records that no chain of the chosen edge kinds joins."""


def resolve_node(graph: nx.MultiDiGraph[str], corpus: Corpus, name: str) -> str:
    """A graph node for `name`: a node id as given (`author:…`, `topic:…`), else the record that
    `corpus.resolve` finds (NotFoundError with suggestions, AmbiguousError); the one author or topic
    of exactly that name comes before a fuzzy match of a record."""
    if name in graph:
        return name
    if not corpus.names.lookup_exact(name):
        key = compact_key(name)
        named = [n for n, a in graph.nodes(data=True)
                 if a.get("kind") in ("author", "topic") and compact_key(str(a.get("label", ""))) == key]
        if len(named) == 1:
            return named[0]
    node = corpus.resolve(name)
    if node not in graph:
        raise NotFoundError(name, [f"{node} is in the corpus but not in the graph: run `kg graph build`"])
    return node


def node_info(graph: nx.MultiDiGraph[str], node: str) -> dict[str, Any]:
    """The short description of a node that every query result carries."""
    attrs = graph.nodes[node]
    return {"id": node, "label": attrs.get("label", node), "kind": attrs.get("kind"),
            "year": attrs.get("year"), "date": attrs.get("date"), "title": attrs.get("title")}


def edge_fields(attrs: dict[str, Any]) -> dict[str, Any]:
    """The attributes of an edge that explain it (relation, evidence, where, source …)."""
    return {k: attrs[k] for k in EDGE_FIELDS if attrs.get(k) is not None}


# ---- lineage ---------------------------------------------------------------------------------------
def lineage_view(graph: nx.MultiDiGraph[str]) -> nx.DiGraph[str]:
    """The lineage edges alone (child -> parent), one per pair, with their attributes."""
    view: nx.DiGraph[str] = nx.DiGraph()
    for u, v, attrs in graph.edges(data=True):
        if attrs.get("kind") == "lineage":
            view.add_edge(u, v, **attrs)
    return view


def _distances(view: nx.DiGraph[str], node: str, up: bool, depth: int | None) -> dict[str, int]:
    if node not in view:
        return {node: 0}
    walk = view if up else view.reverse(copy=False)
    return dict(nx.single_source_shortest_path_length(walk, node, cutoff=depth))


def lineage_ids(graph: nx.MultiDiGraph[str], node: str, depth: int | None = None,
                direction: Direction = "both") -> set[str]:
    """`node` with its ancestors (`up`), descendants (`down`) or both, within `depth` generations."""
    view = lineage_view(graph)
    ids = {node}
    if direction in ("up", "both"):
        ids |= set(_distances(view, node, True, depth))
    if direction in ("down", "both"):
        ids |= set(_distances(view, node, False, depth))
    return ids


def lineage_family(graph: nx.MultiDiGraph[str], node: str, depth: int | None = None) -> nx.DiGraph[str]:
    """The family of `node` for drawing by time: ancestors and descendants within `depth`.

    Nodes carry label, kind, title, year, date and `generation` (negative: ancestors, 0: the
    record, positive: descendants); edges (child -> parent) carry relation, evidence, evidence_ref,
    provenance and support.
    """
    view = lineage_view(graph)
    generation = {n: -d for n, d in _distances(view, node, True, depth).items()}
    generation.update(_distances(view, node, False, depth))
    family: nx.DiGraph[str] = nx.DiGraph(root=node)
    for n, gen in generation.items():
        info = {k: v for k, v in node_info(graph, n).items() if k != "id" and v is not None}
        family.add_node(n, generation=gen, **info)
    for u, v, attrs in view.edges(data=True):
        if u in family and v in family:
            family.add_edge(u, v, **edge_fields(attrs))
    return family


@dataclass
class TreeNode:
    """A node of a printed lineage tree; `relation` and `edge` describe the link to its tree parent."""

    id: str
    label: str
    kind: str | None = None
    year: int | None = None
    relation: str | None = None
    edge: dict[str, Any] = field(default_factory=dict)
    repeated: bool = False  # shown already elsewhere in the tree (a node with two parents)
    children: list[TreeNode] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def walk(self) -> list[TreeNode]:
        return [self, *(n for child in self.children for n in child.walk())]


def lineage_tree(graph: nx.MultiDiGraph[str], node: str, direction: Literal["up", "down"] = "up",
                 depth: int | None = None) -> TreeNode:
    """Ancestors (`up`) or descendants (`down`) of `node` as a tree; oldest branches first."""
    if direction not in ("up", "down"):
        raise BadInputError(f"direction must be up or down, not {direction!r}")
    view = lineage_view(graph)
    up = direction == "up"
    info = node_info(graph, node)
    root = TreeNode(node, info["label"], info["kind"], info["year"])
    seen = {node}

    def grow(parent: TreeNode, level: int) -> None:
        if parent.id not in view or (depth is not None and level >= depth):
            return
        nexts = view.successors(parent.id) if up else view.predecessors(parent.id)
        for other in sorted(nexts, key=lambda n: _order(graph, n)):
            attrs = view[parent.id][other] if up else view[other][parent.id]
            o = node_info(graph, other)
            child = TreeNode(other, o["label"], o["kind"], o["year"], attrs.get("relation"),
                             edge_fields(attrs))
            parent.children.append(child)
            child.repeated = other in seen
            if not child.repeated:
                seen.add(other)
                grow(child, level + 1)

    grow(root, 0)
    return root


def _order(graph: nx.MultiDiGraph[str], node: str) -> tuple[Any, ...]:
    attrs = graph.nodes[node]
    return (attrs.get("date") or "9999", str(attrs.get("label", node)).lower(), node)


@dataclass(kw_only=True)
class EdgeExplanation:
    """What explains an edge: its relation, the words that support it and where, its source."""

    relation: str | None = None
    evidence: str | None = None
    evidence_ref: str | None = None
    provenance: str | None = None
    support: str | None = None
    score: float | None = None


def explanation(attrs: dict[str, Any]) -> dict[str, Any]:
    """An edge's attributes as `EdgeExplanation` keyword arguments."""
    return {f.name: attrs.get(f.name) for f in fields(EdgeExplanation)}


# ---- paths -----------------------------------------------------------------------------------------
@dataclass
class Hop(EdgeExplanation):
    """One step of a path, walked from `start` to `end`; the edge itself runs `source` -> `target`."""

    start: str
    end: str
    source: str
    target: str
    kind: str


@dataclass
class GraphPath:
    """A chain of edges from `start` to `end`. `direction`: descends (each hop a child of the one
    before), ascends (each hop a parent), mixed."""

    start: str
    end: str
    via: list[str]
    direction: str
    hops: list[Hop]
    nodes: dict[str, dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cost(attrs: dict[str, Any]) -> float:
    return KIND_COST.get(attrs.get("kind", ""), 3.0) * SUPPORT_COST.get(attrs.get("support", ""), 1.0)


def path_view(graph: nx.MultiDiGraph[str], via: tuple[str, ...] = PATH_KINDS) -> nx.DiGraph[str]:
    """The edges of the kinds in `via`, one per ordered pair (the cheapest), weighted by `_cost`."""
    unknown = [k for k in via if k not in EDGE_KINDS]
    if unknown:
        raise BadInputError(f"unknown edge kind(s): {', '.join(unknown)} (one of: {', '.join(EDGE_KINDS)})")
    view: nx.DiGraph[str] = nx.DiGraph()
    for u, v, attrs in graph.edges(data=True):
        if attrs.get("kind") in via:
            cost = _cost(attrs)
            if not view.has_edge(u, v) or view[u][v]["weight"] > cost:
                view.add_edge(u, v, weight=cost, attrs=attrs)
    return view


def find_path(graph: nx.MultiDiGraph[str], start: str, end: str,
              via: tuple[str, ...] = PATH_KINDS) -> GraphPath:
    """The best-supported chain from `start` to `end`: a line of descent when there is one (either
    way round), else any chain over the `via` edges regardless of direction. NoPathError if none."""
    view = path_view(graph, via)
    if start == end:
        raise BadInputError("a path needs two different records")
    for direction, (a, b) in (("descends", (end, start)), ("ascends", (start, end))):
        if a in view and b in view and nx.has_path(view, a, b):
            nodes = nx.shortest_path(view, a, b, weight="weight")
            order = nodes[::-1] if direction == "descends" else nodes
            return _graph_path(graph, view, order, list(via), direction)
    undirected = view.to_undirected(as_view=True)
    if start in view and end in view and nx.has_path(undirected, start, end):
        order = nx.shortest_path(undirected, start, end, weight="weight")
        return _graph_path(graph, view, order, list(via), "mixed")
    s, e = (node_info(graph, n)["label"] for n in (start, end))
    raise NoPathError(f"no path between {s} and {e} over {', '.join(via)} edges"
                      + ("" if "mentions" in via else " (try --via lineage,described_in,mentions,cites)"))


def _graph_path(graph: nx.MultiDiGraph[str], view: nx.DiGraph[str], order: list[str], via: list[str],
                direction: str) -> GraphPath:
    hops = []
    for a, b in zip(order, order[1:], strict=False):
        source, target = (a, b) if view.has_edge(a, b) else (b, a)
        attrs = view[source][target]["attrs"]
        hops.append(Hop(a, b, source, target, attrs["kind"], **explanation(attrs)))
    return GraphPath(order[0], order[-1], via, direction, hops, {n: node_info(graph, n) for n in order})


# ---- neighbourhood -----------------------------------------------------------------------------
@dataclass
class Neighbor(EdgeExplanation):
    """A node joined to the queried one by an edge of `kind`: `out` when the edge leaves the queried
    node (it cites / derives from / mentions the neighbour), `in` when it arrives."""

    id: str
    label: str
    node_kind: str | None
    year: int | None
    kind: str
    direction: str


def neighbors(graph: nx.MultiDiGraph[str], node: str, kinds: tuple[str, ...] | None = None) -> list[Neighbor]:
    """Every edge at `node` (of `kinds`, default all), grouped by kind, then direction, then date."""
    kinds = tuple(kinds or EDGE_KINDS)
    unknown = [k for k in kinds if k not in EDGE_KINDS]
    if unknown:
        raise BadInputError(f"unknown edge kind(s): {', '.join(unknown)} (one of: {', '.join(EDGE_KINDS)})")
    rank = {k: i for i, k in enumerate(EDGE_KINDS)}
    rows = []
    both = (("out", graph.out_edges(node, data=True)), ("in", graph.in_edges(node, data=True)))
    for direction, edges in both:
        for u, v, attrs in edges:
            if attrs.get("kind") not in kinds:
                continue
            other = v if direction == "out" else u
            info = node_info(graph, other)
            row = Neighbor(other, info["label"], info["kind"], info["year"], attrs["kind"], direction,
                           **explanation(attrs))
            # authors in their order on the paper; anything else oldest first
            key = (rank[row.kind], direction != "out", attrs.get("position", 0), *_order(graph, other))
            rows.append((key, row))
    return [row for _, row in sorted(rows, key=lambda kr: kr[0])]


# ---- a record's place ------------------------------------------------------------------------------
def record_context(graph: nx.MultiDiGraph[str], node: str) -> dict[str, Any]:
    """What `kg show` and the app's paper page show from the graph: PageRank with its rank among the
    records, and the direct lineage (parents and children, each with relation and evidence)."""
    scores = {n: a["pagerank"] for n, a in graph.nodes(data=True) if "pagerank" in a}
    order = sorted(scores, key=lambda n: (-scores[n], n))
    rows = neighbors(graph, node, ("lineage",))
    brief = [{"id": r.id, "label": r.label, "year": r.year, "relation": r.relation, "support": r.support,
              "evidence": r.evidence, "evidence_ref": r.evidence_ref} for r in rows]
    side = [r.direction for r in rows]
    return {"pagerank": scores.get(node), "rank": order.index(node) + 1 if node in scores else None,
            "records": len(order), "parents": [b for b, d in zip(brief, side, strict=True) if d == "out"],
            "children": [b for b, d in zip(brief, side, strict=True) if d == "in"]}
