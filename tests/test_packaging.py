"""Every third-party module the tool imports is a declared runtime dependency (not only a test one).

A module that arrives only through another package, or only with the `test` extra, works in the
developer's venv and fails on a user's fresh `pip install -e .` (as `kg build` once did without
ir-measures).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.conftest import REPO


def imported_top_modules() -> dict[str, str]:
    found: dict[str, str] = {}
    paths = [*sorted((REPO / "kg").rglob("*.py")), *sorted((REPO / "kgapp").rglob("*.py")), REPO / "app.py"]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(REPO)))
    return found


def declared_runtime() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {re.split(r"[<>=!~ ;\[]", req)[0].lower().replace("_", "-") for req in project["dependencies"]}


def declared_extra(name: str) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {re.split(r"[<>=!~ ;\[]", req)[0].lower().replace("_", "-")
            for req in project["optional-dependencies"][name]}


def test_every_imported_distribution_is_a_declared_runtime_dependency():
    # kg/scale/ may also use the `scale` extra (Ray, DuckDB): `kg build --ray` says how to install it
    declared, scale = declared_runtime(), declared_extra("scale")
    owners = packages_distributions()
    local = {"kg", "kgapp", "tests", "testkit", "benchmarks"}
    missing = []
    for module, where in sorted(imported_top_modules().items()):
        if module in local or module in sys.stdlib_module_names:
            continue
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [])}
        if not dists & (declared | (scale if where.startswith("kg/scale/") else set())):
            missing.append(f"{module} ({where}; distribution {sorted(dists) or '?'})")
    assert not missing, "imported but not in [project.dependencies]: " + ", ".join(missing)
