"""The `kg` command: thin wrappers over the library that turn `KGError`s into one-line messages."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from kg import __version__
from kg.errors import KGError
from kg.store import Store

# Each module defines `commands`: a list of click commands to register on the group.
COMMAND_MODULES = [
    "kg.commands.corpus",
    "kg.commands.fetch",
    "kg.commands.graph",
    "kg.commands.export",
    "kg.commands.search",
    "kg.commands.serve",
]


class KGGroup(click.Group):
    """A group whose commands report `KGError` as one line and exit with its code (2)."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KGError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


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
    ctx.obj = Store.at(data_dir)


def _register() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.commands:
            cli.add_command(command)


_register()


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    cli.main(prog_name="kg", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main())
