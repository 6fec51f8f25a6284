"""Code health: ruff and mypy pass, and no code reaches into a dependency's private names.

ruff and mypy come with the `test` extra, so CI always runs them: a missing tool is a failure, not a
skip. mypy's scope (strict on kg/, lenient on kgapp/ and app.py, and the modules not yet checked)
is configured in pyproject.toml's [tool.mypy].
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.conftest import REPO
from tests.test_packaging import declared_runtime

LINTED = ["kg", "kgapp", "tests", "testkit", "benchmarks", "app.py"]
SCANNED = ["kg", "kgapp", "app.py", "benchmarks", "tests", "testkit"]
OURS = {"kg", "kgapp", "app", "tests", "testkit", "benchmarks"}


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_passes():
    res = run_tool("ruff", "check", "--no-cache", *LINTED)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mypy_passes():
    res = run_tool("mypy")  # files, strictness and the modules not yet checked: pyproject.toml
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Success" in res.stdout
    assert "unused section" not in res.stdout + res.stderr, "pyproject names a module that no longer exists"


# ---- who imports whom --------------------------------------------------------------------------------
def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def importers_of(roots: list[str], banned: set[str]) -> list[str]:
    found = []
    for root in roots:
        path = REPO / root
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            bad = sorted(m for m in imported_modules(file) if m.split(".")[0] in banned)
            found += [f"{file.relative_to(REPO)}: {m}" for m in bad]
    return found


def test_runtime_code_imports_no_test_support_and_benchmarks_no_tests():
    assert not importers_of(["kg", "kgapp", "app.py"], {"tests", "testkit", "benchmarks"})
    assert not importers_of(["benchmarks", "testkit"], {"tests"})
    assert importers_of(["benchmarks"], {"testkit"}), "the check looks at the benchmarks' imports"


# ---- private names of dependencies ------------------------------------------------------------------
def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


@cache
def dependency_modules() -> frozenset[str]:
    """Top-level modules of every declared runtime dependency (e.g. `arxiv`, `bm25s`, `faiss`, `sklearn`)."""
    declared = declared_runtime()
    return frozenset(module for module, dists in packages_distributions().items()
                     if not is_private(module) and module not in OURS
                     and {d.lower().replace("_", "-") for d in dists} & declared)


def source_files() -> list[Path]:
    found: list[Path] = []
    for name in SCANNED:
        path = REPO / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class PrivateUse(ast.NodeVisitor):
    """Finds `from dep import _x`, `import dep._x`, `from dep._x import y`, `dep._x` (through any alias
    bound by an import), and, in a class derived from a dependency's class, `self._x` or `def _x` where
    `_x` belongs to that class (a private member used or overridden)."""

    def __init__(self, deps: frozenset[str], where: str):
        self.deps, self.where = deps, where
        self.aliases: dict[str, str] = {}  # local name -> dotted module path in a dependency
        self.found: list[str] = []
        self.bases: list[list[type]] = []

    def note(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.where}:{getattr(node, 'lineno', 0)}: {what}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in self.deps:
                if any(is_private(part) for part in alias.name.split(".")):
                    self.note(node, f"import {alias.name}")
                top = alias.name.split(".")[0]  # `import a.b` binds `a`; `import a.b as c` binds a.b
                self.aliases[alias.asname or top] = alias.name if alias.asname else top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module.split(".")[0] not in self.deps:
            return
        if any(is_private(part) for part in module.split(".")):
            self.note(node, f"from {module} import …")
        for alias in node.names:
            if is_private(alias.name):
                self.note(node, f"from {module} import {alias.name}")
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = dotted(node)
        if path and path.split(".")[0] in self.aliases and is_private(node.attr):
            self.note(node, path)
        elif path and path.startswith("self.") and path.count(".") == 1 and is_private(node.attr):
            self.check_inherited(node, node.attr)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.bases.append([cls for base in node.bases if (cls := self.resolve(base)) is not None])
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and is_private(item.name):
                self.check_inherited(item, item.name)
        self.generic_visit(node)
        self.bases.pop()

    def resolve(self, base: ast.expr) -> type | None:
        """The dependency class a base expression names, or None (ours, or not a dependency's)."""
        path = dotted(base)
        if not path or path.split(".")[0] not in self.aliases:
            return None
        target = self.aliases[path.split(".")[0]] + path[len(path.split(".")[0]):]
        module, _, attr = target.rpartition(".")
        try:
            found = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            return None
        return found if isinstance(found, type) else None

    def check_inherited(self, node: ast.AST, name: str) -> None:
        for cls in (self.bases[-1] if self.bases else []):
            for parent in cls.__mro__:
                if parent.__module__.split(".")[0] in self.deps and re.search(rf"\b{name}\b", source_of(parent)):
                    self.note(node, f"{parent.__module__}.{parent.__qualname__}'s private {name}")
                    return


@cache
def source_of(cls: type) -> str:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return ""


def private_uses() -> list[str]:
    found: list[str] = []
    for path in source_files():
        visitor = PrivateUse(dependency_modules(), str(path.relative_to(REPO)))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        found += visitor.found
    return found


def test_no_private_name_of_a_dependency_is_used():
    assert {"arxiv", "faiss", "onnxruntime", "streamlit"} <= dependency_modules()  # bm25s: BM25 is owned (kg.search.index)
    offenders = private_uses()
    assert not offenders, "private names of dependencies:\n" + "\n".join(offenders)


def test_the_private_name_check_finds_each_form(tmp_path):
    deps = frozenset({"arxiv", "streamlit"})
    code = """
import arxiv
import arxiv._feed
from arxiv import _feed, Client
from arxiv._feed import parse
import streamlit as st

st._main.write("x")
arxiv._feed.parse(b"")

class Ours(Client):
    def _parse_feed(self, url):
        return self._session.get(url)

    def _ours(self):
        return self._mine
"""
    visitor = PrivateUse(deps, "x.py")
    visitor.visit(ast.parse(code))
    found = "\n".join(visitor.found)
    for expected in ("x.py:3: import arxiv._feed", "x.py:4: from arxiv import _feed", "x.py:5: from arxiv._feed",
                     "x.py:8: st._main", "x.py:9: arxiv._feed", "x.py:12: arxiv.Client's private _parse_feed",
                     "x.py:13: arxiv.Client's private _session"):
        assert expected in found, found
    assert "_ours" not in found and "_mine" not in found
