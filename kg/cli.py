"""The `kg` command: thin wrappers over the library that turn `KGError`s into one-line messages."""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

import click

from kg import __version__
from kg.errors import KGError
from kg.lock import recover_if_idle
from kg.store import Store

log = logging.getLogger(__name__)

# Each command's module (which defines `commands`, a list of click commands). A module is imported
# only when one of its commands runs, so `kg show` does not pay for faiss, torch or streamlit.
COMMANDS = {
    "ingest": "kg.commands.corpus", "show": "kg.commands.corpus", "list": "kg.commands.corpus",
    "fetch": "kg.commands.fetch",
    "build": "kg.commands.search", "search": "kg.commands.search", "similar": "kg.commands.search",
    "eval": "kg.commands.search",
    "lineage": "kg.commands.graph", "path": "kg.commands.graph", "neighbors": "kg.commands.graph",
    "graph": "kg.commands.graph",
    "export": "kg.commands.export",
    "serve": "kg.commands.serve",
    "parquet": "kg.commands.scale",
}


class KGGroup(click.Group):
    """A group that loads its commands lazily and reports `KGError` as one line, exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        return next((c for c in importlib.import_module(module).commands if c.name == name), None)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KGError as exc:
            click.echo(f"error: {one_line(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except OSError as exc:  # a file the command could not read or write
            log.debug("details", exc_info=True)
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc}", err=True)
            ctx.exit(2)
        except Exception as exc:  # a bug: still one line (the traceback with -vv)
            log.debug("details", exc_info=True)
            click.echo(f"error: internal error ({type(exc).__name__}: {one_line(str(exc))}); "
                       "run with -vv for details", err=True)
            ctx.exit(1)


def one_line(text: str, limit: int = 400) -> str:
    """A message on one line, shortened to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@click.group(cls=KGGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="KG_DATA_DIR",
              help="Data directory (default: the repository's data/; env KG_DATA_DIR).")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
@click.version_option(__version__, prog_name="kg")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, verbose: int) -> None:
    """Paper KG: reading lists -> corpus -> knowledge graph, semantic search, bibliographies.

    Example: kg ingest && kg build && kg search "which papers accelerate sampling?"
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    store = Store.at(data_dir)
    recover_if_idle(store)  # a batch a killed writer committed is finished before anything reads
    ctx.obj = store.pinned()  # every file this command reads comes from the same build generation


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli.main(prog_name="kg", standalone_mode=True)


if __name__ == "__main__":
    main()
