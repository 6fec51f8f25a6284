"""Run every benchmark (benchmarks/bench_*.py, each with a `main()`), one after another.

Usage: python benchmarks/run.py [NAME ...]   e.g. `python benchmarks/run.py ingest search`
Results are printed and written to benchmarks/results/<name>.json.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main(argv: list[str]) -> int:
    wanted = set(argv)
    failures = 0
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"\n=== {name} ===", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        start = time.perf_counter()
        try:
            module.main()
        except Exception as exc:  # a failing benchmark must not hide the others
            failures += 1
            print(f"FAILED: {exc!r}")
        print(f"({name}: {time.perf_counter() - start:.1f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
