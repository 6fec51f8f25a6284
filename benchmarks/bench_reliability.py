"""What reliability costs: the checksums of a build generation, a commit, the writer lock, and a
`kg build` that finds the index intact versus one that repairs a damaged index file.

Prints a table and writes benchmarks/results/reliability.json. The generation sizes are synthetic
(random bytes in a `search/` part), to show how verification grows with the index: sha256 reads
every byte, so a build of a whole field (GBs of vectors) pays seconds for its checks.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import save_results, time_runs  # noqa: E402
from kg.generations import Staging, verify  # noqa: E402
from kg.lock import writer_lock  # noqa: E402
from kg.pipeline import BuildPlan  # noqa: E402
from kg.store import DEFAULT_DATA_DIR, Store  # noqa: E402
from testkit.encoders import FakeEncoder  # noqa: E402

SIZES_MB = (10, 100, 300)


def generation_of(root: Path, megabytes: int) -> Store:
    """A data directory whose current generation holds `megabytes` of index files."""
    store = Store.at(root)
    with writer_lock(store, "benchmark"):
        staging = Staging.begin(store)
        folder = staging.store.build_dir / "search" / "x"
        folder.mkdir(parents=True)
        for i in range(max(1, megabytes // 10)):
            (folder / f"part{i}.npy").write_bytes(os.urandom(10 * 1024 * 1024))
        staging.commit()
    return store


def copy_inputs(root: Path) -> Store:
    root.mkdir(parents=True)
    for name in ("reading-lists", "facts", "corpus"):
        shutil.copytree(DEFAULT_DATA_DIR / name, root / name)
    for name in ("lineage.csv", "systems.csv"):
        shutil.copy(DEFAULT_DATA_DIR / name, root / name)
    return Store.at(root)


def main() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mb in SIZES_MB:
            store = generation_of(Path(tmp) / f"g{mb}", mb)
            results[f"verify {mb} MB"] = time_runs(lambda s=store: verify(s), repeat=3)
            shutil.rmtree(store.root)
        store = copy_inputs(Path(tmp) / "data")

        def take_lock() -> None:
            with writer_lock(store, "benchmark"):
                pass

        results["writer lock (take + release)"] = time_runs(take_lock, repeat=20)
        plan = lambda: BuildPlan(store, make_encoder=lambda n: FakeEncoder(name=n or "fake")).run()  # noqa: E731
        plan()
        results["kg build, intact (fake encoder)"] = time_runs(plan, repeat=5)

        def damaged() -> None:
            (vectors,) = store.build_dir.glob("search/*/doc_vectors.npy")
            vectors.write_bytes(b"\0")
            plan()

        results["kg build, repairing the index (fake encoder)"] = time_runs(damaged, repeat=5)
    for name, value in results.items():
        print(f"{name:48s} {value}")
    save_results("reliability", results)
    return results


if __name__ == "__main__":
    main()
