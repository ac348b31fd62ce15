"""`banatie serve --workers N`: Prometheus' multiprocess mode. Each worker process writes its
counters and histograms to files in `PROMETHEUS_MULTIPROC_DIR`, and `/metrics` in any worker
adds them all up. The directory must be set before a worker imports `prometheus_client` (the
workers inherit it from `serve`), and must not hold the files of an earlier run.

Kept apart from banatie.observability.metrics, which imports prometheus_client: `serve` calls
this first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory(workers: int) -> Iterator[Path | None]:
    """The directory of this run's metric files: the operator's `PROMETHEUS_MULTIPROC_DIR`
    (emptied of an earlier run's files), else with several workers a temporary one (removed
    when the server stops); None for one worker without the variable (plain in-process
    metrics)."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink(missing_ok=True)
        yield path
        return
    if workers <= 1:
        yield None
        return
    made = Path(tempfile.mkdtemp(prefix="banatie-metrics-"))
    os.environ[MULTIPROC_ENV] = str(made)
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)
