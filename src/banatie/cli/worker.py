"""`banatie worker`: run async and batch generations from the job queue (docs/operations.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.config
import signal
from typing import Annotated

import typer

from banatie.cli.common import console, fail, load_settings
from banatie.settings import Settings

log = logging.getLogger("banatie.worker")


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            envvar="BANATIE_JOB_CONCURRENCY",
            help="jobs at once in this process (default 2)",
            min=1,
            max=64,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run queued generations (async and batch) until SIGTERM or Ctrl-C. Start as many as you
    like, on any host that reaches the database and the blob store; `serve` runs jobs too unless
    BANATIE_JOBS_IN_SERVE=false. Needs the PostgreSQL job queue."""
    from banatie.observability.logs import logging_config

    settings = load_settings()
    if concurrency is not None:
        settings.job_concurrency = concurrency
    if settings.resolved_job_queue != "postgres":
        fail(
            "banatie worker takes jobs from the PostgreSQL job queue (BANATIE_DATABASE_URL on "
            "PostgreSQL); with SQLite, `banatie serve` runs the jobs itself"
        )
    logging.config.dictConfig(
        logging_config(settings.log_format, settings.log_level, settings.secrets)
    )
    if settings.log_format == "text":
        console.print(f"Banatie worker: {settings.job_concurrency} job(s) at once; Ctrl-C stops")
    asyncio.run(work(settings))


async def work(settings: Settings) -> None:
    """Register as a worker (heartbeat, recovery), take jobs, and on SIGTERM/SIGINT stop taking
    them, let running ones finish for BANATIE_SHUTDOWN_TIMEOUT_SECONDS and give the rest back."""
    from banatie.jobs import runner
    from banatie.runtime import build_runtime

    rt = build_runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
            loop.add_signal_handler(signum, stop.set)
    try:
        rt.delivery.outbox.start()  # CDN purges of aliases the jobs move
        rt.webhooks.start()  # the webhook events of the generations and batches it finishes
        if rt.recovery is not None:
            await rt.recovery.start()
        rt.providers.start()
        await runner.start(rt)
        log.info("worker %s takes jobs", rt.instance)
        await stop.wait()
        log.info("worker %s stopping", rt.instance)
    finally:
        await rt.close()
