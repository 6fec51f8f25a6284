"""data/lineage.csv: every row loads, quotes the list at its file:line, and names records we have."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import BadInputError
from kg.lineage import COLUMNS, RELATIONS, SUPPORTS, load_lineage, parse_lineage, unresolved_rows
from kg.store import Store
from tests.graph.corpus_fixture import REPO_DATA

HEADER = ",".join(COLUMNS)
FAMILY = "reading-lists/stable-diffusion-family-and-identity-preservation.md"

# The chains the issue names, as (child, parent): all must be curated.
REQUIRED = [
    ("system:sd-v1-2-1-4", "2112.10752"), ("system:sd-v1-5", "system:sd-v1-2-1-4"),
    ("system:sd-2", "system:sd-2-base"), ("system:sd-2-1", "system:sd-2"),
    ("system:sd-2-1-unclip", "system:sd-2-1"), ("2307.01952", "2112.10752"),
    ("system:sdxl-turbo", "2307.01952"), ("2402.13929", "2307.01952"), ("2403.03206", "2112.10752"),
    ("2401.05252", "2310.00426"), ("2403.04692", "2310.00426"), ("2405.05224", "2309.15807"),
    ("2102.09672", "2006.11239"), ("2010.02502", "2006.11239"), ("2201.09865", "2006.11239"),
    ("2403.06807", "2303.01469"), ("2403.06807", "2303.04248"), ("2406.09750", "2404.02905"),
    ("2410.04671", "2404.02905"), ("2112.10752", "2012.09841"),
]


def test_every_curated_row_loads_with_its_evidence_at_its_file_and_line(lineage_rows):
    assert len(lineage_rows) >= len(REQUIRED)
    for row in lineage_rows:
        line = (REPO_DATA / row.file).read_text(encoding="utf-8").splitlines()[row.line - 1]
        assert row.evidence and row.evidence in line, row
        assert row.relation in RELATIONS and row.support in SUPPORTS
        assert row.provenance == f"curated:lineage.csv:{row.row}"


def test_the_chains_the_issue_asks_for_are_curated(lineage_rows):
    pairs = {(r.child, r.parent) for r in lineage_rows}
    assert [p for p in REQUIRED if p not in pairs] == []


def test_every_curated_row_names_records_of_the_default_corpus(lineage_rows, default_corpus):
    known = default_corpus.papers.keys() | default_corpus.systems.keys()
    assert unresolved_rows(lineage_rows, known) == []


def test_a_row_as_edge_carries_relation_evidence_and_where(lineage_rows):
    edge = next(r for r in lineage_rows if r.child == "system:sd-v1-5").to_edge()
    assert (edge.source, edge.target, edge.kind, edge.relation) == (
        "system:sd-v1-5", "system:sd-v1-2-1-4", "lineage", "finetuned_from")
    assert edge.evidence == "Fine-tuned with `512x512` from SDv1.2 with more steps."
    assert edge.evidence_ref == f"{FAMILY}:21" and edge.provenance.startswith("curated:lineage.csv:")


def row(child="a", parent="b", relation="extends", support="stated", evidence="x", ref=f"{FAMILY}:21",
        comment="") -> str:
    return ",".join([child, parent, relation, support, evidence, ref, comment])


@pytest.mark.parametrize(("text", "message"), [
    ("child,parent\na,b\n", "missing column(s): relation"),
    (f"{HEADER}\n{row(relation='inspired_by')}\n", "lineage.csv:2: unknown relation 'inspired_by'"),
    (f"{HEADER}\n{row(support='vibes')}\n", "lineage.csv:2: unknown support 'vibes'"),
    (f"{HEADER}\n{row(evidence='')}\n", "lineage.csv:2: evidence is required"),
    (f"{HEADER}\n{row(ref='stable.md')}\n", "lineage.csv:2: ref 'stable.md' is not <file>.md:<line>"),
    (f"{HEADER}\n{row(parent='a')}\n", "lineage.csv:2: a cannot derive from itself"),
    (f"{HEADER}\n{row()}\n{row()}\n", "lineage.csv:3: a -> b repeats row 2"),
    (f"{HEADER}\n{row()}\n{row(child='b', parent='a')}\n", "lineage.csv:3: b -> a contradicts row 2"),
])
def test_malformed_rows_are_reported_with_file_and_line(text, message):
    with pytest.raises(BadInputError) as err:
        parse_lineage(text)
    assert message in str(err.value)


def make_store(tmp_path: Path, rows: list[str]) -> Store:
    (tmp_path / "reading-lists").mkdir()
    source = REPO_DATA / FAMILY
    (tmp_path / FAMILY).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "lineage.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return Store.at(tmp_path)


def test_evidence_that_is_not_at_its_line_is_refused(tmp_path):
    store = make_store(tmp_path, [row(evidence="Fine-tuned with `512x512` from SDv1.2", ref=f"{FAMILY}:22")])
    with pytest.raises(BadInputError, match=r"lineage.csv:2: evidence not found at .*md:22"):
        load_lineage(store)
    assert load_lineage(store, verify=False)[0].line == 22


@pytest.mark.parametrize(("ref", "message"), [
    ("reading-lists/nowhere.md:3", "evidence file reading-lists/nowhere.md does not exist"),
    (f"{FAMILY}:999", "the file has 82 lines"),
])
def test_evidence_in_a_missing_file_or_past_its_end_is_refused(tmp_path, ref, message):
    with pytest.raises(BadInputError, match=message):
        load_lineage(make_store(tmp_path, [row(ref=ref)]))


def test_no_lineage_file_means_no_curated_rows(tmp_path):
    assert load_lineage(Store.at(tmp_path)) == []


def test_a_quoted_field_may_hold_commas(tmp_path):
    evidence = "Finetuned version of SD2.1, modified to accept (noisy) CLIP image embedding"
    store = make_store(tmp_path, [row(evidence=f'"{evidence}"', ref=f"{FAMILY}:29")])
    assert load_lineage(store)[0].evidence == evidence


def test_a_lineage_file_that_is_not_utf8_is_refused(tmp_path):
    (tmp_path / "lineage.csv").write_bytes(HEADER.encode() + b"\n\xff\xfe,b\n")
    with pytest.raises(BadInputError, match=r"lineage.csv: not UTF-8 text"):
        load_lineage(Store.at(tmp_path))
