"""The labelled query set and the evaluation (ir-measures), on the fake encoder."""

from __future__ import annotations

import json

import pytest

from kg.corpus import Corpus
from kg.errors import BadInputError
from kg.search.documents import build_documents
from kg.search.evaluate import LabelledQuery, evaluate, load_queries, queries_path
from kg.store import Store
from tests.conftest import DATA


def write_lines(path, *lines: str):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scores_per_mode_and_per_query(searcher):
    queries = [LabelledQuery("a", "faster sampling speedups", {"2010.02502": 2}),
               LabelledQuery("b", "inpainting", {"2201.09865": 2, "2112.10752": 1})]
    report = evaluate(searcher, queries)
    assert set(report.scores) == {"dense", "bm25", "hybrid"} and report.n_queries == 2
    assert report.per_query["a"]["bm25"] == {"nDCG@10": 1.0, "R@10": 1.0}
    # b: RePaint (grade 2) first, LDM (grade 1) has no word "inpainting": recall 1/2, nDCG 2 / (2 + 1/log2 3)
    assert report.per_query["b"]["bm25"] == {"nDCG@10": 0.7602, "R@10": 0.5}
    assert report.scores["bm25"] == {"nDCG@10": 0.8801, "R@10": 0.75}
    assert report.best_mode in report.scores
    assert all(0.0 <= v <= 1.0 for mode in report.scores.values() for v in mode.values())


def test_a_miss_scores_zero(searcher):
    report = evaluate(searcher, [LabelledQuery("a", "zzyzx", {"2010.02502": 2})], modes=["bm25"])
    assert report.scores["bm25"] == {"nDCG@10": 0.0, "R@10": 0.0}


def test_judgments_of_papers_not_in_the_index_are_rejected(searcher):
    with pytest.raises(BadInputError, match="judges papers not in the index: 9999.00001"):
        evaluate(searcher, [LabelledQuery("a", "diffusion", {"9999.00001": 1}, line=3)], path="q.jsonl")


@pytest.mark.parametrize(("line", "message"), [
    ('{"id": "q1", "query": "x"}', "has no judgments"),
    ('{"id": "q1", "query": "", "judgments": {"a": 1}}', "non-empty query"),
    ('{"id": "q1", "query": "x", "judgments": {"a": 7}}', "integer 0..3"),
    ('{"id": "q1", "query": "x", "judgments": {"a": 1}', "invalid JSON"),
    ('["not", "an", "object"]', "JSON object"),
])
def test_malformed_queries_name_file_and_line(tmp_path, line, message):
    path = write_lines(tmp_path / "q.jsonl", '{"id": "q0", "query": "ok", "judgments": {"a": 1}}', "", line)
    with pytest.raises(BadInputError, match=message) as err:
        load_queries(path)
    assert err.value.line == 3 and err.value.path == str(path)


def test_duplicate_ids_missing_and_empty_files(tmp_path):
    row = json.dumps({"id": "q1", "query": "x", "judgments": {"a": 1}})
    with pytest.raises(BadInputError, match="duplicate query id"):
        load_queries(write_lines(tmp_path / "dup.jsonl", row, row))
    with pytest.raises(BadInputError, match="no labelled query set"):
        load_queries(tmp_path / "absent.jsonl")
    with pytest.raises(BadInputError, match="empty"):
        load_queries(write_lines(tmp_path / "empty.jsonl", ""))


def test_the_shipped_query_set_fits_the_default_corpus():
    store = Store(DATA)
    queries = load_queries(queries_path(store))
    assert len(queries) >= 15
    indexed = {d.id for d in build_documents(Corpus.load(store))}
    for q in queries:
        assert set(q.judgments) <= indexed, q.id
        assert 2 in q.judgments.values(), q.id
