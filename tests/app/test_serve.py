"""`kg serve`: finds app.py, builds the streamlit command line, and really serves."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.commands.serve import build_serve_command, find_app
from testkit.appdata import REPO, copy_default_data
from testkit.live import LiveApp, free_port, wait_healthy


def test_find_app_is_the_repository_app_and_a_missing_one_is_a_clear_error(tmp_path):
    assert find_app() == (REPO / "app.py").resolve()
    res = CliRunner().invoke(cli, ["serve", "--app", str(tmp_path / "nope.py")])
    assert res.exit_code == 2
    assert "the Streamlit app script was not found" in res.output and "nope.py" in res.output


def test_the_command_line_is_local_and_private():
    cmd = build_serve_command(REPO / "app.py", 8765, "127.0.0.1", ("--theme.base", "dark"))
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    args = dict(zip(cmd[5::2], cmd[6::2], strict=False))
    assert args["--server.port"] == "8765" and args["--server.address"] == "127.0.0.1"
    assert args["--browser.gatherUsageStats"] == "false" and args["--server.headless"] == "true"
    assert cmd[-2:] == ["--theme.base", "dark"]


def test_kg_serve_serves_the_app_on_the_data_directory(tmp_path):
    data = copy_default_data(tmp_path / "data").root
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        cmd = [sys.executable, "-m", "kg", "--data-dir", str(data), "serve", "--port", str(port),
               "--address", "127.0.0.1"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    app = LiveApp(f"http://127.0.0.1:{port}", process, log, 0.0)
    try:
        wait_healthy(app, timeout=90)
        with urllib.request.urlopen(app.url + "/", timeout=10) as response:
            assert response.status == 200 and b"<div id=\"root\">" in response.read()
    finally:
        app.stop()
    with pytest.raises(OSError):  # stopping `kg serve` stopped the server: no orphan left listening
        urllib.request.urlopen(app.url + "/_stcore/health", timeout=2)
    text = log.read_text()
    assert f"Paper KG on http://127.0.0.1:{port} (data: {data})" in text
