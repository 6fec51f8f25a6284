"""The lineage explorer's drawing: a layered layout by time, computed here, drawn as DOT.

Positions are computed from the graph alone (no physics, no randomness), so a family is drawn the
same way on every rerun and in every session:
- the time axis (`slot`): one band per year, oldest first (undated records in a last band); inside a
  year, a record that derives from another record of the same year sits one slot after it;
- the other axis (`row`): records of a slot are ordered by the mean row of their neighbours in the
  other slots (a few barycentre sweeps, ties broken by date then id), then centred.
Time runs left to right ("LR") or, for families with many slots, top to bottom ("TB"), where a
web page has room to scroll. Graphviz only draws: the DOT pins every node (`pos="x,y!"`,
`layout=neato`), so the browser does no layout search; edges are routed around nodes (splines)
up to SPLINE_LIMIT nodes and drawn straight beyond, where routing would take seconds.
Edges keep their direction (a derived record points at what it derives from); each is labelled by
its relation and carries its evidence and source as a tooltip (shown on hover).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import networkx as nx

from kg.corpus import Corpus
from kgapp.escape import esc_dot, shorten
from kgapp.records import plain

# points between neighbouring slots (time) and rows, for each direction
SPACING = {"LR": (180.0, 66.0), "TB": (84.0, 175.0)}
LR_MAX_SLOTS = 5  # "auto" draws time left to right up to this many slots (it fits the page unscaled),
# top to bottom beyond, where the page scrolls down and labels keep their size
SPLINE_LIMIT = 80  # nodes up to which edges are routed around nodes (slower) rather than straight
SWEEPS = 4  # barycentre sweeps (each one left-to-right then right-to-left)
UNDATED = "undated"
# Mid-tone colours that read on the light and the dark theme alike (the drawing has no background).
EDGE_STYLE = {
    "lineage": 'color="#4f86c6", fontcolor="#4f86c6", penwidth=1.6',
    "cites": 'color="#8c8c8c", fontcolor="#8c8c8c", style=dashed',
    "mentions": 'color="#c08a2e", fontcolor="#c08a2e", style=dotted',
}
BAND_COLOUR = "#8c8c8c"
NODE_FONT, EDGE_FONT = 14, 12  # points; the drawing is never scaled down below its natural size
NODE_FILL = {"paper": "#eef3fb", "system": "#fdf1dc"}
FOCUS_FILL = "#ffd966"


@dataclass(frozen=True)
class FamilyNode:
    """A placed node: what it is, its date, its slot on the time axis and its (centred) row."""

    id: str
    label: str
    title: str
    date: str | None
    band: str  # the year band ("2022") or UNDATED
    kind: str
    slot: int
    row: float
    focus: bool = False


@dataclass(frozen=True)
class FamilyEdge:
    """A drawn edge with what supports it."""

    source: str
    target: str
    kind: str
    relation: str
    evidence: str
    ref: str
    provenance: str


@dataclass
class FamilyLayout:
    nodes: list[FamilyNode]
    edges: list[FamilyEdge]
    bands: list[tuple[str, int]] = field(default_factory=list)  # (year, the band's first slot)

    @property
    def slots(self) -> int:
        return 1 + max((n.slot for n in self.nodes), default=-1)

    def direction(self, wanted: str = "auto") -> str:
        """"LR" or "TB": as `wanted`, or for "auto" LR up to LR_MAX_SLOTS slots and TB beyond."""
        if wanted in SPACING:
            return wanted
        return "LR" if self.slots <= LR_MAX_SLOTS else "TB"

    def point(self, node: FamilyNode, direction: str) -> tuple[float, float]:
        """Graphviz coordinates in points (y grows upwards there)."""
        along, across = SPACING[direction]
        if direction == "LR":
            return node.slot * along, -node.row * across
        return node.row * across, -node.slot * along


# ---- node facts -------------------------------------------------------------------------------
def _node_facts(node_id: str, data: dict, corpus: Corpus | None) -> dict[str, str | None]:
    """label, title, date and kind of a node: from the corpus when it has the record, else the graph."""
    if corpus is not None and node_id in corpus:
        r = corpus.get(node_id)
        return {"label": r.label, "title": r.title, "date": r.published, "kind": r.kind}
    date = data.get("published") or data.get("date") or (str(data["year"]) if data.get("year") else None)
    return {"label": str(data.get("label") or data.get("name") or node_id),
            "title": str(data.get("title") or data.get("label") or node_id),
            "date": date, "kind": str(data.get("kind") or "paper")}


def _band(date: str | None) -> str:
    return date[:4] if date and date[:4].isdigit() else UNDATED


def _edges_of(family: nx.DiGraph) -> list[FamilyEdge]:
    edges = []
    for u, v, data in family.edges(data=True):
        kind = str(data.get("kind") or "lineage")
        edges.append(FamilyEdge(
            source=str(u), target=str(v), kind=kind, relation=str(data.get("relation") or kind),
            evidence=str(data.get("evidence") or ""),
            ref=str(data.get("evidence_ref") or data.get("ref") or ""),
            provenance=str(data.get("provenance") or "")))
    return sorted(edges, key=lambda e: (e.source, e.target, e.kind, e.relation))


# ---- layout -----------------------------------------------------------------------------------
def _columns(order: list[str], facts: dict[str, dict], family: nx.DiGraph) -> dict[str, tuple[str, int]]:
    """node -> (band, column inside the band): one column right of the same-band nodes it points at
    (the longest such chain; a cycle, which lineage should never have, is cut where it closes)."""
    band = {n: _band(facts[n]["date"]) for n in order}
    sub: dict[str, int] = {}

    def depth(node: str, visiting: set[str]) -> int:
        if node in sub:
            return sub[node]
        visiting.add(node)
        inner = [depth(v, visiting) for v in sorted(family.successors(node))
                 if v != node and band.get(v) == band[node] and v not in visiting]
        visiting.discard(node)
        sub[node] = 1 + max(inner) if inner else 0
        return sub[node]

    for node in order:
        depth(node, set())
    return {n: (band[n], sub[n]) for n in order}


def _sort_key(facts: dict[str, dict], node: str) -> tuple[str, str]:
    return (facts[node]["date"] or "9999", node)


def _order_rows(columns: list[list[str]], family: nx.DiGraph, facts: dict[str, dict]) -> list[list[str]]:
    """Barycentre ordering of each column against its neighbours, deterministic."""
    undirected = family.to_undirected(as_view=True)
    rows = [sorted(col, key=lambda n: _sort_key(facts, n)) for col in columns]
    for _ in range(SWEEPS):
        for sequence in (range(1, len(rows)), range(len(rows) - 2, -1, -1)):
            for i in sequence:
                rows[i] = _reorder(rows[i], undirected, _index(rows, i), facts)
    return rows


def _index(rows: list[list[str]], skip: int) -> dict[str, float]:
    """Centred row positions of every node outside column `skip`."""
    pos: dict[str, float] = {}
    for i, col in enumerate(rows):
        if i != skip:
            pos.update({n: k - (len(col) - 1) / 2 for k, n in enumerate(col)})
    return pos


def _reorder(col: list[str], graph: nx.Graph, pos: dict[str, float], facts: dict[str, dict]) -> list[str]:
    current = {n: k - (len(col) - 1) / 2 for k, n in enumerate(col)}

    def key(node: str) -> tuple[float, str, str]:
        near = [pos[m] for m in graph.neighbors(node) if m in pos]
        centre = sum(near) / len(near) if near else current[node]
        return (round(centre, 6), *_sort_key(facts, node))

    return sorted(col, key=key)


def layout_family(family: nx.DiGraph, corpus: Corpus | None = None, focus: str | None = None) -> FamilyLayout:
    """Place every node of `family` by time (slot) and barycentre order (row); see the module docstring."""
    if not all(isinstance(n, str) for n in family):
        family = nx.relabel_nodes(family, str)
    facts = {str(n): _node_facts(str(n), dict(d), corpus) for n, d in family.nodes(data=True)}
    order = sorted(facts, key=lambda n: _sort_key(facts, n))
    where = _columns(order, facts, family)
    bands = sorted({b for b, _ in where.values()}, key=lambda b: (b == UNDATED, b))
    starts, x = {}, 0
    for band in bands:
        starts[band] = x
        x += 1 + max(c for b, c in where.values() if b == band)
    slots = sorted({starts[b] + c for b, c in where.values()})
    columns = [[n for n in order if starts[where[n][0]] + where[n][1] == s] for s in slots]
    rows = _order_rows(columns, family, facts)
    nodes = []
    for slot, col in zip(slots, rows, strict=True):
        for k, node in enumerate(col):
            f = facts[node]
            nodes.append(FamilyNode(id=node, label=str(f["label"]), title=str(f["title"]), date=f["date"],
                                    band=where[node][0], kind=str(f["kind"]), slot=slot,
                                    row=k - (len(col) - 1) / 2, focus=node == focus))
    return FamilyLayout(nodes, _edges_of(family), [(b, starts[b]) for b in bands])


# ---- drawing ----------------------------------------------------------------------------------
def _node_line(node: FamilyNode, xy: tuple[float, float], link_to: str | None) -> str:
    fill = FOCUS_FILL if node.focus else NODE_FILL.get(node.kind, "#eeeeee")
    shape = "box" if node.kind != "system" else "component"
    label = esc_dot(shorten(node.label, 28)) + "\\n" + esc_dot(node.date or "undated")
    tip = esc_dot(f"{node.title} ({node.date or 'undated'}) [{node.id}]", limit=300)
    url = f', URL="{esc_dot(link_to + quote(node.id, safe=":"))}", target="_self"' if link_to else ""
    return (f'"{esc_dot(node.id)}" [label="{label}", tooltip="{tip}", shape={shape}, fillcolor="{fill}", '
            f'pos="{xy[0]:.1f},{xy[1]:.1f}!"{url}];')


def _edge_line(edge: FamilyEdge) -> str:
    style = EDGE_STYLE.get(edge.kind, 'color="#555555"')
    tip = edge.relation + (f": “{edge.evidence}”" if edge.evidence else "")
    tip += (f" ({edge.ref})" if edge.ref else "") + (f" [{edge.provenance}]" if edge.provenance else "")
    return (f'"{esc_dot(edge.source)}" -> "{esc_dot(edge.target)}" [label="{esc_dot(edge.relation)}", '
            f'tooltip="{esc_dot(tip, limit=400)}", labeltooltip="{esc_dot(tip, limit=400)}", {style}];')


def _band_lines(layout: FamilyLayout, direction: str) -> Iterable[str]:
    """A year label at the start of each band: above the nodes (LR) or to their left (TB)."""
    along, across = SPACING[direction]
    edge = min((n.row for n in layout.nodes), default=0.0) - (1.0 if direction == "LR" else 0.9)
    for band, slot in layout.bands:
        x, y = (slot * along, -edge * across) if direction == "LR" else (edge * across, -slot * along)
        yield (f'"band:{esc_dot(band)}" [label="{esc_dot(band)}", shape=plaintext, style="", fontsize=15, '
               f'fontcolor="{BAND_COLOUR}", tooltip="{esc_dot(band)}", pos="{x:.1f},{y:.1f}!"];')


def render_family_dot(layout: FamilyLayout, direction: str = "auto",
                      link_to: str | None = "paper?paper=") -> str:
    """DOT text for st.graphviz_chart: pinned positions, relation labels, evidence tooltips.

    `direction`: "LR", "TB" or "auto" (see FamilyLayout.direction); `link_to` + the node id
    becomes each node's link (None: no links)."""
    direction = layout.direction(direction)
    splines = "true" if len(layout.nodes) <= SPLINE_LIMIT else "line"
    lines = [
        "digraph lineage {",
        f"  layout=neato; inputscale=72; splines={splines}; overlap=true; outputorder=edgesfirst;",
        '  bgcolor="transparent";',
        f'  node [style="rounded,filled", fontname="Helvetica", fontsize={NODE_FONT}, fontcolor="#1a1a1a", '
        'margin="0.1,0.05"];',
        f'  edge [fontname="Helvetica", fontsize={EDGE_FONT}, arrowsize=0.8];',
    ]
    lines += ["  " + line for line in _band_lines(layout, direction)]
    lines += ["  " + _node_line(n, layout.point(n, direction), link_to) for n in layout.nodes]
    lines += ["  " + _edge_line(e) for e in layout.edges]
    lines.append("}")
    return "\n".join(lines)


def edge_rows(layout: FamilyLayout, corpus: Corpus | None = None) -> list[dict[str, str]]:
    """The family's edges as table rows (the same evidence the tooltips show, for reading and copying)."""
    def name(node_id: str) -> str:
        return corpus.get(node_id).label if corpus is not None and node_id in corpus else node_id

    return [{"from": name(e.source), "from_id": e.source, "relation": e.relation, "to": name(e.target),
             "to_id": e.target, "evidence": plain(e.evidence) or "—", "where": e.ref or "—",
             "source": e.provenance or "—"} for e in layout.edges]
