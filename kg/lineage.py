"""Curated lineage (data/lineage.csv): loading, validation, and the check of every quoted evidence.

A row says that `child` derives from `parent` by `relation`, quotes the reading list's own words as
`evidence`, and names where they stand (`ref`, "reading-lists/<file>.md:<line>", relative to the
data directory). `support` says how the words carry the link:

- `stated`: the words say it ("Fine-tuned … from SDv1.2", "builds upon the pre-trained PixArt-α model");
- `named`: the link is in a name or title the list gives ("`SDXL-Turbo` **Adversarial Diffusion
  Distillation**" under the Series of Stable Diffusion Models), not in a sentence;
- `placement`: the link rests on where the list puts the entries and how their notes answer each other.

A link the lists do not support in one of these ways is not in the file: an edge without a source
does not exist. Relations extracted from notes live in `kg.graph.extract`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

import networkx as nx

from kg.errors import BadInputError
from kg.model import Edge
from kg.store import Store, read_text

# relation -> what "child <relation> parent" means
RELATIONS: dict[str, str] = {
    "finetuned_from": "the child's weights are the parent's, fine-tuned further",
    "resumed_from": "training of the child resumed from the parent's checkpoint",
    "distilled_from": "the child is a distillation of the parent (fewer steps, same task)",
    "extends": "the child improves or enhances the parent's method",
    "builds_on": "the child uses the parent's model or method as its basis",
    "variant_of": "same architecture or design as the parent, trained anew or for another task",
    "instance_of": "the child is a trained release of the parent's model",
    "version_of": "the child is a later version in the parent's family",
    "unifies": "the child unifies the parent with another line of work",
    "reformulates": "the child re-derives the parent's model from another angle",
}
SUPPORTS = ("stated", "named", "placement")
COLUMNS = ("child", "parent", "relation", "support", "evidence", "ref", "comment")
_REF = re.compile(r"^(?P<file>[^:]+\.md):(?P<line>[1-9]\d*)$")
SOURCE_NAME = "lineage.csv"


@dataclass(frozen=True)
class LineageRow:
    """One curated derivation: `child` derives from `parent`; `row` is its line in lineage.csv."""

    child: str
    parent: str
    relation: str
    support: str
    evidence: str
    ref: str
    comment: str = ""
    row: int = 0

    @property
    def file(self) -> str:
        return self.ref.rsplit(":", 1)[0]

    @property
    def line(self) -> int:
        return int(self.ref.rsplit(":", 1)[1])

    @property
    def provenance(self) -> str:
        return f"curated:{SOURCE_NAME}:{self.row}"

    def to_edge(self) -> Edge:
        return Edge(source=self.child, target=self.parent, kind="lineage", provenance=self.provenance,
                    relation=self.relation, evidence=self.evidence, evidence_ref=self.ref)


# ---- loading -------------------------------------------------------------------------------------
def load_lineage(store: Store, *, verify: bool = True) -> list[LineageRow]:
    """The curated rows of `store.lineage_path` (none when the file is absent).

    With `verify`, every evidence must stand at its file:line in the data directory.
    """
    if not store.lineage_path.exists():
        return []
    rows = parse_lineage(read_text(store.lineage_path), SOURCE_NAME)
    if verify:
        verify_evidence(rows, store)
    return rows


def parse_lineage(text: str, name: str = SOURCE_NAME) -> list[LineageRow]:
    """Rows of a lineage CSV; a malformed row is a BadInputError naming the file and line."""
    reader = csv.DictReader(io.StringIO(text))
    header = tuple(reader.fieldnames or ())
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise BadInputError(f"missing column(s): {', '.join(missing)} (expected {','.join(COLUMNS)})",
                            name, 1)
    rows: list[LineageRow] = []
    for record in reader:
        line = reader.line_num
        values = {c: (record.get(c) or "").strip() for c in COLUMNS}
        rows.append(_validate_row(LineageRow(**values, row=line), name))
    _check_pairs(rows, name)
    return rows


def _validate_row(row: LineageRow, name: str) -> LineageRow:
    def fail(message: str) -> BadInputError:
        return BadInputError(message, name, row.row)

    if not row.child or not row.parent:
        raise fail("child and parent are required")
    if row.child == row.parent:
        raise fail(f"{row.child} cannot derive from itself")
    if row.relation not in RELATIONS:
        raise fail(f"unknown relation {row.relation!r} (one of: {', '.join(RELATIONS)})")
    if row.support not in SUPPORTS:
        raise fail(f"unknown support {row.support!r} (one of: {', '.join(SUPPORTS)})")
    if not row.evidence:
        raise fail("evidence is required: quote the reading list's words")
    if not _REF.match(row.ref):
        raise fail(f"ref {row.ref!r} is not <file>.md:<line>")
    ref = PurePosixPath(row.file)
    if ref.is_absolute() or ".." in ref.parts or "\\" in row.file:
        raise fail(f"ref {row.ref!r} must name a file inside the data directory (e.g. reading-lists/x.md)")
    return row


def _check_pairs(rows: Iterable[LineageRow], name: str) -> None:
    """No pair twice, and no pair in both directions (the one would contradict the other)."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        if (row.child, row.parent) in seen:
            raise BadInputError(f"{row.child} -> {row.parent} repeats row {seen[row.child, row.parent]}",
                                name, row.row)
        if (row.parent, row.child) in seen:
            raise BadInputError(f"{row.child} -> {row.parent} contradicts row {seen[row.parent, row.child]}",
                                name, row.row)
        seen[row.child, row.parent] = row.row
    _check_cycles(rows, name)


def _check_cycles(rows: Iterable[LineageRow], name: str) -> None:
    """No chain of derivations that comes back to where it started (A -> B -> C -> A)."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    for row in rows:
        graph.add_edge(row.child, row.parent, row=row.row)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    chain = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
    lines = sorted(int(graph.edges[u, v]["row"]) for u, v in cycle)
    raise BadInputError(f"lineage cycle {chain} (rows {', '.join(map(str, lines))}): a record cannot "
                        "derive from itself", name, lines[-1])


def verify_evidence(rows: Iterable[LineageRow], store: Store) -> None:
    """Every row's evidence must be the words standing at its file:line; else BadInputError."""
    lines: dict[str, list[str]] = {}
    for row in rows:
        if row.file not in lines:
            path = store.root / row.file
            if not path.resolve().is_relative_to(store.root.resolve()):
                raise BadInputError(f"evidence file {row.file} is outside the data directory", SOURCE_NAME,
                                    row.row)
            if not path.is_file():
                raise BadInputError(f"evidence file {row.file} does not exist", SOURCE_NAME, row.row)
            lines[row.file] = read_text(path).splitlines()
        text = lines[row.file]
        if row.line > len(text):
            raise BadInputError(f"{row.ref}: the file has {len(text)} lines", SOURCE_NAME, row.row)
        if row.evidence not in text[row.line - 1]:
            raise BadInputError(f"evidence not found at {row.ref}: {row.evidence!r}", SOURCE_NAME, row.row)


def unresolved_rows(rows: Iterable[LineageRow], known: Iterable[str]) -> list[LineageRow]:
    """Rows naming a child or parent that is not among the `known` ids."""
    ids = set(known)
    return [r for r in rows if r.child not in ids or r.parent not in ids]
