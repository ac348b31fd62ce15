"""How `banatie serve` runs: the machine split between worker processes, and the small process
that supervises them.

Each worker is a whole server process: its own event loop, database pool, libvips threads and
in-memory caches (live keys and bytes, image rows, decoded-pixel locks). Nothing in memory is
shared between workers, so every in-memory budget (`BANATIE_LIVE_MEMORY_CACHE_MB`,
`BANATIE_LIVE_LRU_SIZE`, `BANATIE_CPU_WORKERS`) is per process, and the server uses N times
each. What must be shared (quotas, claims, variants) already lives in the database, Redis and
the blob store, as it does across replicas.

**The supervisor imports nothing of the app.** `serve` migrates and makes the first key with
the whole CLI loaded (~140 MB), then replaces itself — same pid, so signals and process
managers see no change — by a fresh interpreter running :func:`supervise` (`python -m
banatie.serving`): uvicorn, the logging configuration and the metrics directory, ~26 MB. It
spawns the workers, restarts one that dies and stops them gracefully on SIGTERM; only the
workers import `banatie.app`. Keep this module's imports to the standard library.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any, Final, NoReturn, TypedDict

#: What every worker serves (a factory: each worker reads its settings from the environment).
APP: Final = "banatie.app:create_app"


class Plan(TypedDict):
    """What the supervisor needs, decided by `serve`: the worker count and uvicorn's options
    (JSON: the logging configuration, the bind address, proxy trust, shutdown timeout)."""

    workers: int
    options: dict[str, Any]


def cpu_count() -> int:
    """The cores this process may run on (its affinity, as a container's cpuset limits it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def cpu_workers_per_process(workers: int, cores: int) -> int:
    """libvips threads per worker so that all workers together use every core once: more
    threads than cores only queue (measured in docs/performance.md)."""
    return max(1, cores // max(1, workers))


def exec_supervisor(plan: Plan) -> NoReturn:
    """Replace this process by `python -m banatie.serving` supervising `plan`. The plan goes
    through an unlinked temporary file (its logging configuration holds the secrets to scrub,
    which must not show in the command line or the environment)."""
    with tempfile.TemporaryFile() as carrier:
        carrier.write(json.dumps(plan).encode())
        carrier.flush()
        descriptor = os.dup(carrier.fileno())  # inheritable across exec, unlike Python's fds
    os.set_inheritable(descriptor, True)
    os.lseek(descriptor, 0, os.SEEK_SET)
    sys.stdout.flush()  # what `serve` printed (the first key) before the image is replaced
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "banatie.serving", str(descriptor)])


def supervise(plan: Plan) -> None:
    """Serve `APP` as `plan` says: with several workers this process only supervises them;
    with one, it is the worker."""
    import uvicorn

    from banatie.observability.multiprocess import metrics_directory

    workers = plan["workers"]
    # Several workers add their metrics up through files (banatie.observability.multiprocess).
    with metrics_directory(workers):
        if workers > 1:
            uvicorn.run(APP, factory=True, workers=workers, **plan["options"])
        else:
            uvicorn.run(APP, factory=True, **plan["options"])


def main(argv: list[str]) -> None:
    with os.fdopen(int(argv[1]), "rb") as carrier:
        plan: Plan = json.loads(carrier.read())
    supervise(plan)


if __name__ == "__main__":  # not in the workers: multiprocessing imports this as __mp_main__
    main(sys.argv)
