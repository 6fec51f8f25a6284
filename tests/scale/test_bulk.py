"""`kg fetch --query`: a 10,000-record listing paged into Parquet, killed mid-way, resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

from kg.cli import cli
from kg.scale.parquet import part_files, read_papers
from tests.conftest import REPO
from tests.scale.fake_listing import FakeListing

QUERY = "cat:cs.CV AND submittedDate:[202301010000 TO 202312312359]"


def _fetch_args(data: Path, listing: FakeListing) -> list[str]:
    return ["--data-dir", str(data), "fetch", "--query", QUERY, "--arxiv-url", listing.endpoint,
            "--delay", "0", "--no-progress", "--out", str(data / "bulk-cv")]


def _wait_for(predicate, seconds: float = 60.0) -> bool:
    tick = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return True
        tick.wait(0.05)
    return predicate()


def test_kill_mid_way_then_resume_gives_every_record_once(tmp_path: Path, listing: FakeListing):
    data = tmp_path / "data"
    listing.received.clear()
    listing.release.clear()
    listing.hold_from = 4  # the fourth page waits: the client is killed while it waits
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "kg", *_fetch_args(data, listing)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _wait_for(lambda: listing.count >= 4), "the client never asked for the fourth page"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        proc.kill()
        listing.hold_from = None
        listing.release.set()
    parts = part_files(data / "bulk-cv" / "papers")
    assert [p.name for p in parts] == [f"page-{s:09d}.parquet" for s in (0, 2000, 4000)]
    assert not list((data / "bulk-cv" / "papers").glob(".*"))  # no half-written part left behind

    before = len(listing.received)
    res = CliRunner().invoke(cli, _fetch_args(data, listing))
    assert res.exit_code == 0, res.output
    assert listing.starts()[-2:] == [6000, 8000] and len(listing.received) == before + 2  # no page again
    assert "10000 of 10000 records" in res.output and "3 already on disk" in res.output

    papers = read_papers(data / "bulk-cv" / "papers")
    ids = [p.id for p in papers]
    assert len(ids) == len(set(ids)) == 10_000  # no duplicate
    assert set(ids) == set(listing.table)  # no gap
    first = next(p for p in papers if p.id == "2301.00007")
    assert first.title.startswith("Synthetic Study Number 7 of") and first.version == "v2"
    assert first.authors == ["Author 7 One", "Author 7 Two"] and first.provenance["title"].startswith("arxiv:")


def test_a_finished_listing_is_not_fetched_again_and_another_query_is_refused(tmp_path: Path,
                                                                              listing: FakeListing):
    data = tmp_path / "data"
    listing.received.clear()
    assert CliRunner().invoke(cli, _fetch_args(data, listing)).exit_code == 0
    assert listing.starts() == [0, 2000, 4000, 6000, 8000]
    again = CliRunner().invoke(cli, _fetch_args(data, listing))
    assert again.exit_code == 0 and len(listing.received) == 5
    other = _fetch_args(data, listing)
    other[other.index(QUERY)] = "cat:cs.LG"
    res = CliRunner().invoke(cli, other)
    assert res.exit_code != 0 and "another query" in res.output and "Traceback" not in res.output


def test_faults_mid_listing_are_retried_with_backoff(tmp_path: Path, listing: FakeListing, no_sleep: list[float]):
    data = tmp_path / "data"
    listing.received.clear()
    listing.faults.extend(["503", "truncated"])  # the first page: a 503 (Retry-After: 7), then a cut body
    res = CliRunner().invoke(cli, _fetch_args(data, listing))
    assert res.exit_code == 0, res.output
    assert listing.starts() == [0, 0, 0, 2000, 4000, 6000, 8000]
    assert any(s > 6.9 for s in no_sleep)  # Retry-After (7 s) honoured, through the patched sleep
    assert len({p.id for p in read_papers(data / "bulk-cv" / "papers")}) == 10_000
