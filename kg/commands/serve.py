"""`kg serve`: start the Streamlit app (app.py) on the data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

import kg
from kg.errors import BadInputError
from kg.store import Store

# Settings the app always runs with: no browser opened by the server, no usage statistics sent
# (Paper KG is local-first), no file watcher, a minimal toolbar.
STREAMLIT_FLAGS = ["--server.headless", "true", "--browser.gatherUsageStats", "false",
                   "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]


def find_app(path: Path | None = None) -> Path:
    """The app script: `path` if given, else app.py beside the installed `kg` package (a source
    checkout or an editable install); a clear error when neither exists."""
    candidate = path or Path(kg.__file__).resolve().parent.parent / "app.py"
    if not candidate.is_file():
        raise BadInputError("the Streamlit app script was not found: install Paper KG from a source checkout "
                            "(pip install -e .) or pass --app PATH/TO/app.py", str(candidate))
    return candidate.resolve()


def build_serve_command(app: Path, port: int, address: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The `streamlit run` command line for `app` on `address:port`."""
    return [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
            "--server.address", address, *STREAMLIT_FLAGS, *extra]


@click.command("serve", context_settings={"ignore_unknown_options": True})
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port to listen on.")
@click.option("--host", "--address", "address", default="127.0.0.1", show_default=True,
              help="Address to listen on: loopback by default; 0.0.0.0 serves other machines too.")
@click.option("--app", "app_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The app script (default: app.py beside the kg package).")
@click.argument("streamlit_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def serve_command(store: Store, port: int, address: str, app_path: Path | None,
                  streamlit_args: tuple[str, ...]) -> None:
    """Start the app (search, paper pages, lineage explorer, timeline, export) in the browser.

    On first start with no data/build/ the app builds the search index and the graph with a
    progress bar, then serves. Extra arguments go to `streamlit run` (e.g. --theme.base dark).
    Ctrl+C stops it.

    Example: kg serve --port 8502
    """
    app = find_app(app_path)
    env = {**os.environ, "KG_DATA_DIR": str(store.root.resolve())}
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    click.echo(f"Paper KG on http://{address}:{port} (data: {store.root}); Ctrl+C stops it.")
    cmd = build_serve_command(app, port, address, streamlit_args)
    if os.name == "posix":  # streamlit takes this process's place, so every signal reaches the server
        sys.stdout.flush()
        os.execve(cmd[0], cmd, env)
    try:
        code = subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        code = 0
    sys.exit(code)


commands = [serve_command]
