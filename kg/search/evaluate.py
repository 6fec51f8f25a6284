"""Retrieval quality on a labelled query set: nDCG@10 and recall@10 per mode, via ir-measures.

The query set (data/eval/queries.jsonl) is one JSON object a line:
    {"id": "q01", "family": "sampling", "query": "which papers accelerate sampling?",
     "judgments": {"2010.02502": 2, "2202.00512": 2, "2006.11239": 1}}
`family` (optional) groups queries for the per-family table.
Grades: 2 = squarely about what the query asks, 1 = related (a building block, a partial answer).
Papers not judged count as not relevant. Recall@10 counts every paper graded 1 or more.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ir_measures
from ir_measures import R, nDCG

from kg.errors import BadInputError
from kg.search.engine import MODES, Searcher
from kg.store import Store

MEASURES = (nDCG @ 10, R @ 10)
RUN_DEPTH = 10  # documents per query handed to ir-measures: the measures look at ten, like a user


@dataclass
class LabelledQuery:
    id: str
    query: str
    judgments: dict[str, int]
    line: int = 0
    family: str = ""


@dataclass
class EvalReport:
    """Mean scores per mode ({"hybrid": {"nDCG@10": 0.71, "R@10": 0.8}}), per query, and per family
    (mean nDCG@10 per mode: {"video": {"hybrid": 0.9, "bm25": 0.8, "dense": 0.7}})."""

    scores: dict[str, dict[str, float]]
    per_query: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    n_queries: int = 0
    families: dict[str, dict[str, float]] = field(default_factory=dict)
    family_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def best_mode(self) -> str:
        return max(self.scores, key=lambda m: (self.scores[m]["nDCG@10"], self.scores[m]["R@10"]))

    def to_dict(self) -> dict[str, object]:
        return {"n_queries": self.n_queries, "scores": self.scores, "best_mode": self.best_mode,
                "families": self.families, "family_sizes": self.family_sizes, "per_query": self.per_query}


def queries_path(store: Store) -> Path:
    """The default labelled query set of a data directory."""
    return store.root / "eval" / "queries.jsonl"


def load_queries(path: Path) -> list[LabelledQuery]:
    """The labelled queries of `path`; BadInputError (with file and line) for a malformed one."""
    if not path.exists():
        raise BadInputError("no labelled query set here", str(path))
    queries: list[LabelledQuery] = []
    seen: set[str] = set()
    for n, row in _rows_with_lines(path):
        query = _parse_query(row, str(path), n)
        if query.id in seen:
            raise BadInputError(f"duplicate query id {query.id!r}", str(path), n)
        seen.add(query.id)
        queries.append(query)
    if not queries:
        raise BadInputError("the labelled query set is empty", str(path))
    return queries


def _rows_with_lines(path: Path) -> Iterable[tuple[int, dict[str, object]]]:
    """(line number, record) of each non-blank line."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInputError(f"invalid JSON ({exc.msg})", str(path), n) from exc
        if not isinstance(row, dict):
            raise BadInputError("each line must be a JSON object", str(path), n)
        yield n, row


def _parse_query(row: dict[str, object], path: str, line: int) -> LabelledQuery:
    qid, text, judgments = row.get("id"), row.get("query"), row.get("judgments")
    family = row.get("family", "")
    if not isinstance(qid, str) or not isinstance(text, str) or not text.strip():
        raise BadInputError("each query needs a string id and a non-empty query", path, line)
    if not isinstance(judgments, dict) or not judgments:
        raise BadInputError(f"query {qid!r} has no judgments", path, line)
    for doc, grade in judgments.items():
        if not isinstance(grade, int) or not 0 <= grade <= 3:
            raise BadInputError(f"query {qid!r}: grade of {doc!r} must be an integer 0..3", path, line)
    if not isinstance(family, str):
        raise BadInputError(f"query {qid!r}: family must be a string", path, line)
    return LabelledQuery(qid, text, dict(judgments), line, family)


def check_judgments(queries: Sequence[LabelledQuery], searcher: Searcher, path: str = "") -> None:
    """Every judged paper must be in the index, else the scores would silently be wrong."""
    for q in queries:
        unknown = sorted(d for d in q.judgments if d not in searcher.position)
        if unknown:
            raise BadInputError(f"query {q.id!r} judges papers not in the index: {', '.join(unknown)}",
                                path or None, q.line or None)


def run_queries(searcher: Searcher, queries: Sequence[LabelledQuery], mode: str
                ) -> list[ir_measures.ScoredDoc]:
    """The ranked lists of `mode` for every query, as ir-measures scored documents."""
    run: list[ir_measures.ScoredDoc] = []
    for q in queries:
        hits = searcher.search(q.query, k=RUN_DEPTH, mode=mode, evidence=False)
        run.extend(ir_measures.ScoredDoc(q.id, h.id, float(RUN_DEPTH - h.rank)) for h in hits)
    return run


def evaluate(searcher: Searcher, queries: Sequence[LabelledQuery], modes: Sequence[str] = MODES,
             path: str = "") -> EvalReport:
    """nDCG@10 and R@10 of each mode, averaged over the queries (and per query)."""
    check_judgments(queries, searcher, path)
    qrels = [ir_measures.Qrel(q.id, doc, grade) for q in queries for doc, grade in q.judgments.items()]
    report = EvalReport(scores={}, n_queries=len(queries))
    for mode in modes:
        run = run_queries(searcher, queries, mode)
        agg = ir_measures.calc_aggregate(MEASURES, qrels, run)
        report.scores[mode] = {str(m): round(float(agg[m]), 4) for m in MEASURES}
        for metric in ir_measures.iter_calc(MEASURES, qrels, run):
            per = report.per_query.setdefault(metric.query_id, {}).setdefault(mode, {})
            per[str(metric.measure)] = round(float(metric.value), 4)
    _family_means(report, queries, modes)
    return report


def _family_means(report: EvalReport, queries: Sequence[LabelledQuery], modes: Sequence[str]) -> None:
    """Mean nDCG@10 per family and mode (queries without a family are left out of this table)."""
    groups: dict[str, list[str]] = {}
    for q in queries:
        if q.family:
            groups.setdefault(q.family, []).append(q.id)
    for family, ids in sorted(groups.items()):
        report.family_sizes[family] = len(ids)
        report.families[family] = {
            mode: round(sum(report.per_query.get(i, {}).get(mode, {}).get("nDCG@10", 0.0) for i in ids)
                        / len(ids), 4) for mode in modes}
