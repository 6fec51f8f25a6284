"""Docs that cannot drift: the README's commands, CI's command, and every CLI command's help."""

from __future__ import annotations

import re
import tomllib

import click
from click.testing import CliRunner

from kg.cli import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    return [line for block in blocks[:2] for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_the_install_run_and_test_commands():
    assert README.startswith("# Paper KG\n\n```bash")
    run, test = readme_commands()
    assert "pip install torch==2.13.0" in run and run.rstrip().endswith("kg serve")
    assert "kg ingest" in run and "kg build" in run
    assert "pytest" in test and "torch==2.13.0" in test and "install-system-deps" in test


def test_ci_runs_the_readme_test_command_verbatim():
    _, test = readme_commands()
    assert test in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def all_commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found = {}
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"`kg {prefix}{name}` is listed but does not load"
        found[prefix + name] = command
        if isinstance(command, click.Group):
            found.update(all_commands(command, prefix + name + " "))
    return found


def test_every_command_module_command_is_reachable():
    import importlib

    from kg.cli import COMMANDS
    for module in set(COMMANDS.values()):
        for command in importlib.import_module(module).commands:
            assert COMMANDS.get(command.name) == module, f"{module}:{command.name} is not in kg.cli.COMMANDS"


def test_every_command_has_help_with_an_example_and_is_in_the_readme():
    for name, command in all_commands(cli).items():
        res = CliRunner().invoke(cli, [*name.split(), "--help"])
        assert res.exit_code == 0, name
        if not isinstance(command, click.Group):
            assert "Example:" in res.output, f"`kg {name} --help` has no Example: line"
        top = name.split()[0]
        assert f"kg {top}" in README or f"`{top}`" in README, f"`kg {top}` is not in the README"


def test_the_readme_documents_the_fast_lane_with_the_markers_pytest_knows():
    lane = 'pytest -m "not model and not browser and not latex"'
    assert lane in README
    markers = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert {m.split(":")[0] for m in markers["markers"]} == {"model", "browser", "latex"}
