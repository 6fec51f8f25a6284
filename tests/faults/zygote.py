"""A clean parent for the kill tests' children: `python -m tests.faults.zygote` imports kg once (fake
encoder in place) and forks one child per request, so no child inherits a thread pool (OpenMP,
a loopback server) from the test process. One JSON request per line on stdin, one answer per line:

    {"root": …, "args": [...], "kill_after": 0.3 | null}   -> {"code": 0 | 2 | null (killed)}
    {"root": …, "args": [...], "kill_at": "update-spliced"}  -> the same; killed at that kg.journal point
    {"root": …, "args": [...], "spawn": true, "pause": {"gate": path, "reached": path}}  -> {"pid": n}
    {"wait": pid}                                            -> {"code": …}
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    import faiss

    import kg.search.encoders
    import kg.search.engine
    from tests.faults.helpers import fake_encoder

    faiss.omp_set_num_threads(1)
    kg.search.encoders.load_encoder = fake_encoder  # type: ignore[assignment]
    kg.search.engine.load_encoder = fake_encoder  # type: ignore[assignment]
    for line in sys.stdin:
        request = json.loads(line)
        print(json.dumps(answer(request)), flush=True)


def answer(request: dict[str, Any]) -> dict[str, Any]:
    if "wait" in request:
        return {"code": _status(os.waitpid(int(request["wait"]), 0)[1])}
    pid = _fork(request["root"], request["args"], request.get("pause"), request.get("kill_at"))
    if request.get("spawn"):
        return {"pid": pid}
    kill_after = request.get("kill_after")
    if kill_after is not None:
        deadline = time.monotonic() + float(kill_after)
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return {"code": _status(status)}
            time.sleep(0.002)
        os.kill(pid, signal.SIGKILL)
    return {"code": _status(os.waitpid(pid, 0)[1])}


def _status(status: int) -> int | None:
    code = os.waitstatus_to_exitcode(status)
    return None if code == -signal.SIGKILL else code


def _fork(root: str, args: list[str], pause: dict[str, str] | None, kill_at: str | None = None) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if pause:
            _install_pause(Path(pause["gate"]), Path(pause["reached"]))
        if kill_at:
            _install_kill(kill_at)
        from kg.cli import cli

        cli.main(["--data-dir", root, *args], standalone_mode=False)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os._exit(code)


def _install_kill(at: str) -> None:
    from kg.journal import HOOKS

    def kill(point: str) -> None:
        if point == at:
            os.kill(os.getpid(), signal.SIGKILL)

    HOOKS.append(kill)


def _install_pause(gate: Path, reached: Path) -> None:
    from kg.journal import HOOKS

    def pause(point: str) -> None:
        if point == "before-commit" and not gate.exists():
            reached.touch()
            while not gate.exists():
                time.sleep(0.01)

    HOOKS.append(pause)


if __name__ == "__main__":
    main()
