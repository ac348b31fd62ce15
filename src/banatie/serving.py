"""How `banatie serve` splits the machine between its worker processes.

Each worker is a whole server process: its own event loop, database pool, libvips threads and
in-memory caches (live keys and bytes, image rows, decoded-pixel locks). Nothing in memory is
shared between workers, so every in-memory budget (`BANATIE_LIVE_MEMORY_CACHE_MB`,
`BANATIE_LIVE_LRU_SIZE`, `BANATIE_CPU_WORKERS`) is per process, and the server uses N times
each. What must be shared (quotas, claims, variants) already lives in the database, Redis and
the blob store, as it does across replicas.
"""

from __future__ import annotations

import os


def cpu_count() -> int:
    """The cores this process may run on (its affinity, as a container's cpuset limits it)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def cpu_workers_per_process(workers: int, cores: int) -> int:
    """libvips threads per worker so that all workers together use every core once: more
    threads than cores only queue (measured in docs/performance.md)."""
    return max(1, cores // max(1, workers))
