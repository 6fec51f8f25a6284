"""`--out` writes where the user means (regular file, FIFO, symlink, /dev/stdout); the app binds to
loopback unless told otherwise."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from tests.faults.helpers import REPO, assert_one_line, kg

EXPORTS = [("export", "LDM", "--format", "bibtex"), ("graph", "export", "--format", "json", "--lineage", "SDXL")]


@pytest.fixture
def data(built_copy: Path) -> Path:
    return built_copy


@pytest.mark.parametrize("command", EXPORTS, ids=["export", "graph-export"])
def test_a_regular_file_is_replaced_atomically_keeping_its_mode(data, tmp_path, command):
    out = tmp_path / "out.txt"
    out.write_text("old")
    os.chmod(out, 0o600)
    result = kg(data, *command, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text() != "old"
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("command", EXPORTS, ids=["export", "graph-export"])
def test_a_symlink_writes_its_target_and_stays_a_link(data, tmp_path, command):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert kg(data, *command, "--out", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() != "old" and target.read_text() == link.read_text()


@pytest.mark.parametrize("command", EXPORTS, ids=["export", "graph-export"])
def test_a_fifo_is_written_in_place(data, tmp_path, command):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = kg(data, *command, "--out", str(fifo))
    reader.join(30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO, not a regular file
    assert received and len(received[0]) > 100


def test_dev_stdout_and_dash_write_to_standard_output(data):
    env = {**os.environ, "KG_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    for out in ("/dev/stdout", "-"):
        proc = subprocess.run([sys.executable, "-m", "kg", "export", "LDM", "--format", "bibtex", "--out", out],
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("@") and "rombach" in proc.stdout.lower()
    assert Path("/dev/stdout").is_symlink() or not Path("/dev/stdout").is_file()


def test_an_unwritable_path_is_one_clear_line(data, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for command in EXPORTS:
        result = kg(data, *command, "--out", str(blocker / "out.txt"))
        assert_one_line(result, "unwritable --out")
        assert result.exit_code == 2 and str(blocker / "out.txt") in result.stderr
        assert ".tmp" not in result.stderr


# ---- loopback by default ----------------------------------------------------------------------------
def test_the_app_config_binds_to_loopback():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    code = ("from streamlit import config; config.get_config_options(force_reparse=True); "
            "print(config.get_option('server.address'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.stdout.strip() == "127.0.0.1", proc.stderr  # what `streamlit run app.py` uses


def test_kg_serve_binds_to_loopback_unless_told_with_host():
    from kg.commands.serve import serve_command

    host = next(p for p in serve_command.params if p.name == "address")
    assert host.default == "127.0.0.1" and "--host" in host.opts
    help_text = CliRunner().invoke(cli, ["serve", "--help"]).output
    assert "--host" in help_text and "127.0.0.1" in help_text
