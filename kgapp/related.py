"""The paper page's graph sections and the lineage explorer's choice of family, as plain rows.

Rows are dicts of display strings (the record's id under "id", for its link); the graph queries
themselves live in `kg.graph.build` (`lineage_tree`, `neighbors`, `lineage_family`); this module only
shapes their results.
"""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from kg.graph.query import (
    Neighbor,
    TreeNode,
    edge_fields,
    lineage_family,
    lineage_tree,
    lineage_view,
    neighbors,
    node_info,
)
from kgapp.records import MISSING, plain

NO_CITATIONS = "no citation data yet: `kg fetch --citations` fills it from Semantic Scholar when online"


def tree_rows(tree: TreeNode) -> list[dict[str, str]]:
    """A lineage tree (without its root) as indented rows, oldest branches first."""
    rows: list[dict[str, str]] = []

    def walk(node: TreeNode, level: int) -> None:
        for child in node.children:
            edge = child.edge
            rows.append({"generation": str(level), "record": child.label,
                         "year": str(child.year or MISSING), "relation": child.relation or MISSING,
                         "evidence": plain(edge.get("evidence")) or MISSING,
                         "where": edge.get("evidence_ref") or MISSING,
                         "source": edge.get("provenance") or MISSING, "id": child.id,
                         "note": "shown above" if child.repeated else ""})
            walk(child, level + 1)

    walk(tree, 1)
    return rows


def lineage_rows(graph: nx.MultiDiGraph, node: str, direction: str) -> list[dict[str, str]]:
    """Ancestors (`up`) or descendants (`down`) of `node`, every generation, as rows."""
    if node not in graph:
        return []
    return tree_rows(lineage_tree(graph, node, direction))  # type: ignore[arg-type]


def neighbor_rows(items: Iterable[Neighbor]) -> list[dict[str, str]]:
    return [{"record": n.label, "year": str(n.year or MISSING), "relation": n.relation or n.kind,
             "evidence": plain(n.evidence) or MISSING, "where": n.evidence_ref or MISSING,
             "source": n.provenance or MISSING, "id": n.id} for n in items]


def related_rows(graph: nx.MultiDiGraph, node: str, kind: str, direction: str) -> list[dict[str, str]]:
    """Records joined to `node` by `kind` edges leaving it (`out`) or arriving (`in`)."""
    if node not in graph:
        return []
    found = [n for n in neighbors(graph, node, (kind,)) if n.direction == direction
             and n.node_kind in ("paper", "system")]
    return neighbor_rows(found)


def lineage_records(graph: nx.MultiDiGraph) -> list[str]:
    """Records that have at least one lineage edge, for the explorer's picker."""
    return sorted(lineage_view(graph).nodes)


def whole_family(graph: nx.MultiDiGraph, node: str) -> nx.DiGraph:
    """Every record joined to `node` by lineage in either direction (its connected family)."""
    view = lineage_view(graph)
    members = nx.node_connected_component(view.to_undirected(as_view=True), node) if node in view else {node}
    family: nx.DiGraph = nx.DiGraph(root=node)
    for n in sorted(members):
        family.add_node(n, **{k: v for k, v in node_info(graph, n).items() if k != "id" and v is not None})
    for u, v, attrs in view.edges(data=True):
        if u in members and v in members:
            family.add_edge(u, v, **edge_fields(attrs))
    return family


def family_graph(graph: nx.MultiDiGraph, node: str, scope: str, depth: int | None) -> nx.DiGraph:
    """`scope` "lineage": ancestors and descendants within `depth`; "family": the connected family."""
    if node not in graph:
        return nx.DiGraph(root=node)
    return whole_family(graph, node) if scope == "family" else lineage_family(graph, node, depth)
