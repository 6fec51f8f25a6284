"""`kg fetch` end to end: the summary, --json, offline, and a SIGKILLed run that resumes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from kg.cli import cli
from kg.model import Paper
from kg.store import read_jsonl
from testkit.servers import FakeArxiv, synthetic_arxiv_table
from tests.sources.helpers import by_title, listed, make_store

ROOT = Path(__file__).resolve().parents[2]


def invoke(data: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data), "fetch", *args], catch_exceptions=False)


def test_summary_names_requests_cache_hits_and_papers(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [listed("2112.10752"), listed("2501.99999"), by_title("te", "TurboEdit")])
    result = invoke(store.root, "--arxiv-url", fake_arxiv.endpoint)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "arXiv: 3 requests (0 retries), 0 cache hits" in out  # ids, the unknown id alone, titles
    assert "papers: 1 new, 0 updated, 0 unchanged" in out
    assert "ambiguous title, not resolved: title:te 'TurboEdit': 2408.00735" in out
    assert "not found: 2501.99999 (arXiv does not know it)" in out

    again = invoke(store.root, "--arxiv-url", fake_arxiv.endpoint, "--json")
    data = json.loads(again.stdout)
    assert (data["requests"], data["cache_hits"], data["error"]) == (0, 3, None)
    assert fake_arxiv.count == 3


LDM = "High-Resolution Image Synthesis with Latent Diffusion Models"
SDXL = "SDXL: Improving Latent Diffusion Models"
EVERY_KIND = {  # the --json form of each entry kind, keys in their order
    "resolved_titles": [{"paper": "title:ddim", "title": "Denoising Diffusion Implicit Models",
                         "arxiv_id": "2010.02502"}],
    "ambiguous_titles": [{"paper": "title:te", "title": "TurboEdit", "status": "ambiguous", "arxiv_id": None,
                          "candidates": [
                              {"arxiv_id": "2408.00735", "score": 100.0,
                               "title": "TurboEdit: Text-Based Image Editing\n  Using Few-Step Diffusion Models"},
                              {"arxiv_id": "2408.08332", "score": 100.0,
                               "title": "TurboEdit: Instant text-based image editing"}]}],
    "not_found": [{"paper": "2501.99999", "arxiv_id": "2501.99999", "reason": "arXiv does not know it"},
                  {"paper": "title:ldm-again", "title": LDM, "arxiv_id": "2112.10752",
                   "reason": "matches 2112.10752, already in the corpus"},
                  {"paper": "title:x", "title": "Latent Gardening with Diffusion Teapots",
                   "reason": "no arXiv title matches"}],
    "title_changes": [{"paper": "2307.01952", "ours": SDXL, "ours_from": "list:a.md:3",
                       "arxiv": "SDXL: Improving Latent Diffusion Models for High-Resolution Image Synthesis"}],
    "conflicts": [{"paper": "2112.10752", "field": "doi", "ours": "10.9999/ours",
                   "arxiv": "10.5555/fixture.0001"}],
    "failures": [{"ids": ["bad"], "error": "invalid arXiv id 'not-an-id'"}],
    "citations": {"papers": 3, "unknown_to_semantic_scholar": ["2501.99999", "bad"], "cites_edges": 2},
}
KEY_ORDER = {"resolved_titles": ["paper", "title", "arxiv_id"],
             "ambiguous_titles": ["paper", "title", "status", "arxiv_id", "candidates"],
             "title_changes": ["paper", "ours", "arxiv", "ours_from"],
             "conflicts": ["paper", "field", "ours", "arxiv"], "failures": ["ids", "error"]}


def test_json_gives_every_entry_kind_its_shape(tmp_path, fake_arxiv, fake_s2):
    store = make_store(tmp_path, [
        listed("2112.10752", doi="10.9999/ours"), listed("2307.01952", SDXL, provenance={"title": "list:a.md:3"}),
        listed("2501.99999"), by_title("te", "TurboEdit"), by_title("ddim", "Denoising Diffusion Implicit Models"),
        by_title("x", "Latent Gardening with Diffusion Teapots"), by_title("ldm-again", LDM),
        Paper(id="bad", arxiv_id="not-an-id", title="Bad")])
    result = invoke(store.root, "--arxiv-url", fake_arxiv.endpoint, "--s2-url", fake_s2.base_url,
                    "--citations", "--no-progress", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {key: data[key] for key in EVERY_KIND} == EVERY_KIND
    assert {key: [list(entry) for entry in data[key]] for key in KEY_ORDER} == {
        key: [order] * len(EVERY_KIND[key]) for key, order in KEY_ORDER.items()}
    assert [list(n) for n in data["not_found"]] == [["paper", "arxiv_id", "reason"],
                                                    ["paper", "title", "arxiv_id", "reason"],
                                                    ["paper", "title", "reason"]]
    assert list(data["ambiguous_titles"][0]["candidates"][0]) == ["arxiv_id", "title", "score"]
    assert list(data["citations"]) == ["papers", "unknown_to_semantic_scholar", "cites_edges"]
    assert (data["new"], data["error"]) == (["2112.10752", "2307.01952", "title:ddim"], None)


def test_only_and_help(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [listed("2112.10752", aliases=["LDM"]), listed("2006.11239")])
    result = invoke(store.root, "--arxiv-url", fake_arxiv.endpoint, "--only", "LDM", "--json")
    data = json.loads(result.stdout)
    assert data["new"] == ["2112.10752"]
    assert "Example: kg fetch" in CliRunner().invoke(cli, ["fetch", "--help"]).stdout


def test_offline_is_one_clear_line_and_exit_2(tmp_path):
    store = make_store(tmp_path, [listed("2112.10752")])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = store.papers_path.read_bytes()
    result = invoke(store.root, "--arxiv-url", f"http://127.0.0.1:{port}/api/query")
    assert result.exit_code == 2
    assert f"\rerror: cannot reach arXiv at 127.0.0.1:{port} (connection refused)" in result.stderr
    assert "arXiv:   0%" in result.stderr  # the progress bar, on stderr
    assert store.papers_path.read_bytes() == before


def test_a_failed_run_prints_its_summary_and_the_ids(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [listed("2112.10752")])
    fake_arxiv.faults.extend(["503"] * 5)
    result = invoke(store.root, "--arxiv-url", fake_arxiv.endpoint)
    assert result.exit_code == 2
    assert "arXiv: 5 requests (4 retries)" in result.stdout
    assert "error: arXiv: HTTP 503 after 5 tries (not fetched: 2112.10752)" in result.stderr


def _kg_fetch(data: Path, server: FakeArxiv) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "kg", "--data-dir", str(data), "fetch", "--arxiv-url", server.endpoint,
           "--delay", "0.01", "--no-progress"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for(condition, seconds: float) -> bool:
    done = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        done.wait(0.05)
    return condition()


def test_a_sigkilled_fetch_resumes_and_ends_with_every_record_once(tmp_path):
    table = synthetic_arxiv_table(450)
    store = make_store(tmp_path, [listed(p["id"]) for p in table])
    before = store.papers_path.read_bytes()
    with FakeArxiv(table) as server:
        server.hold_from = 3  # answer two batches, then hang on the third
        proc = _kg_fetch(store.root, server)
        try:
            assert _wait_for(lambda: server.count >= 3, 60), proc.stderr.read() if proc.poll() else ""
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            server.release.set()
        assert proc.returncode == -signal.SIGKILL
        assert store.papers_path.read_bytes() == before  # killed before the merge: snapshot untouched
        server.hold_from = None

        rerun = _kg_fetch(store.root, server)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err.decode()
        assert "arXiv: 3 requests (0 retries), 2 cache hits" in out.decode()  # resumed at batch 3
        assert server.count == 6

    ids = [r["id"] for r in read_jsonl(store.papers_path)]
    assert sorted(ids) == sorted(p["id"] for p in table) and len(ids) == len(set(ids)) == 450
    assert all(r["fetched_at"] and r["summary"] for r in read_jsonl(store.papers_path))
    cache = store.cache_path("arxiv")
    files = sorted(cache.iterdir())
    assert not [f for f in files if f.name.endswith(".tmp")]
    assert len([f for f in files if f.suffix == ".xml"]) == 5
    for f in files:
        if f.suffix == ".xml":
            etree.fromstring(f.read_bytes())  # strict parse: raises on a partial file
        else:
            json.loads(f.read_text(encoding="utf-8"))


def test_without_a_snapshot_it_says_to_ingest_first(tmp_path):
    result = invoke(tmp_path / "data")
    assert result.exit_code == 2 and "run `kg ingest` first" in result.stderr
