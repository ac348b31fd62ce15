"""How `banatie serve` runs: granian's worker processes, the machine split between them, and
the small process that supervises them.

Each worker is a whole server process: its own event loop, database pool, libvips threads and
in-memory caches (live keys and bytes, image rows, decoded-pixel locks). Nothing in memory is
shared between workers, so every in-memory budget (`BANATIE_LIVE_MEMORY_CACHE_MB`,
`BANATIE_LIVE_LRU_SIZE`, `BANATIE_CPU_WORKERS`) is per process, and the server uses N times
each. What must be shared (quotas, claims, variants) already lives in the database, Redis and
the blob store, as it does across replicas.

**The supervisor imports nothing of the app.** `serve` migrates and makes the first key with
the whole CLI loaded (~140 MB), then replaces itself — same pid, so signals and process
managers see no change — by a fresh interpreter running :func:`supervise` (`python -m
banatie.serving`): granian, the logging configuration and the metrics directory. granian forks
the workers from it, restarts one that dies and, on SIGTERM, stops them gracefully (below);
only the workers import `banatie.app` (through :func:`worker_app`). Keep this module's
top-level imports to the standard library.

**Stopping** (SIGTERM or SIGINT): granian's workers stop accepting at once and let the requests
in flight finish; once none is left they run the app's shutdown (jobs, webhooks, claims given
back) and exit. granian has no limit on that wait, so the supervisor keeps uvicorn's: after
`BANATIE_SHUTDOWN_TIMEOUT_SECONDS` (or at a second signal) it sends each worker `CUT_SHORT`,
and the worker cancels what is still running (its access line says 499) so that its shutdown
runs and gives that work back. The supervisor then ends by the signal it received, as uvicorn
did (status 143 in a shell for SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, NoReturn, TypedDict

#: What every worker serves: a factory, called in each worker (it reads its settings from the
#: environment, as `serve` left it).
APP: Final = "banatie.serving:worker_app"
#: Sent by the supervisor to a worker whose requests outlived the shutdown timeout.
CUT_SHORT: Final = signal.SIGUSR1
#: The supervisor's pid, for a worker to die with it (see :func:`die_with_supervisor`).
SUPERVISOR_ENV: Final = "BANATIE_SUPERVISOR_PID"
#: How long a worker's own shutdown (after its requests) may take before granian kills it, on
#: top of twice the shutdown timeout: the jobs in the process get that timeout once more.
KILL_MARGIN_SECONDS: Final = 30

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

log = logging.getLogger("banatie.serve")


class Plan(TypedDict):
    """What the supervisor needs, decided by `serve`: the worker count, the bind address, the
    logging configuration (with the secrets to scrub) and the shutdown timeout."""

    workers: int
    host: str
    port: int
    log_config: dict[str, Any]
    shutdown_timeout: float


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


class Stopping:
    """The supervisor's side of a graceful stop: granian's own handlers stop the workers; this
    one, chained before them, remembers the signal and cuts the stop short after the timeout
    (or at once, at a second signal)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.signal: int | None = None
        self._now = threading.Event()

    def install(self) -> None:
        """Wrap granian's handlers (called once they are installed: granian's startup hook)."""
        for number in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(number)
            signal.signal(number, self._chain(previous))

    def _chain(self, previous: Any) -> Callable[[int, Any], None]:
        def handler(number: int, frame: Any) -> None:
            if self.signal is None:
                self.signal = number
                # A thread: a signal handler must not block nor log (logging takes locks).
                threading.Thread(target=self._drain, name="banatie-drain", daemon=True).start()
            else:
                self._now.set()  # a second Ctrl-C: do not wait for the requests
            if callable(previous):
                previous(number, frame)

        return handler

    def _drain(self) -> None:
        log.info(
            "Stopping: new connections are refused; requests in flight have %g s to finish",
            self.timeout,
        )
        self._now.wait(self.timeout)
        workers = multiprocessing.active_children()
        if workers:
            log.warning("Cutting short the requests still running in %d worker(s)", len(workers))
        for worker in workers:
            if worker.pid is not None:
                with contextlib.suppress(ProcessLookupError):  # it has just finished
                    os.kill(worker.pid, CUT_SHORT)

    def exit_like_the_signal(self) -> None:
        """End as uvicorn did: by the signal received (status 143 in a shell for SIGTERM), so
        that a process manager sees a stop it asked for."""
        if self.signal is not None:
            signal.signal(self.signal, signal.SIG_DFL)
            os.kill(os.getpid(), self.signal)


def supervise(plan: Plan) -> None:
    """Serve :func:`worker_app` on granian with `plan["workers"]` worker processes."""
    from granian.constants import HTTPModes, Interfaces, TaskImpl
    from granian.server.mp import MPServer

    from banatie.observability.multiprocess import metrics_directory

    stopping = Stopping(plan["shutdown_timeout"])
    server = MPServer(
        APP,
        address=plan["host"],
        port=plan["port"],
        interface=Interfaces.ASGI,  # with lifespan: each worker starts and stops the app
        workers=plan["workers"],
        factory=True,
        http=HTTPModes.http1,  # as uvicorn: HTTP/1.1 (a proxy in front speaks HTTP/2)
        websockets=False,  # the app has none
        task_impl=TaskImpl.asyncio,  # a request is an asyncio task: CUT_SHORT can cancel it
        log_dictconfig=plan["log_config"],
        log_access=False,  # banatie.access writes the access lines
        respawn_failed_workers=True,
        workers_kill_timeout=math.ceil(2 * plan["shutdown_timeout"]) + KILL_MARGIN_SECONDS,
    )
    server.on_startup(stopping.install)
    # The workers are forked from this process: they inherit the metrics directory and know
    # whom to die with.
    os.environ[SUPERVISOR_ENV] = str(os.getpid())
    # Several workers add their metrics up through files (banatie.observability.multiprocess).
    with metrics_directory(plan["workers"]):
        server.serve()
    stopping.exit_like_the_signal()


# -- in each worker ----------------------------------------------------------------------------


def die_with_supervisor() -> None:
    """A worker dies with its supervisor (Linux): a `kill -9` of `serve` or its crash stops
    the whole server, as one uvicorn process did, instead of leaving workers on the port."""
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if supervisor is None or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != int(supervisor):  # it died before the line above
        os._exit(1)


class InFlight:
    """The requests this worker is running, so that `CUT_SHORT` can cancel them: what a
    stop's timeout cuts short ends like a client that went away (499 in its access line)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tasks: set[asyncio.Task[Any]] = set()

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":  # the worker's loop, before any request
            asyncio.get_running_loop().add_signal_handler(CUT_SHORT, self.cut_short)
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        if task is None:  # not run as a task: nothing to cancel it by
            await self.app(scope, receive, send)
            return
        self.tasks.add(task)
        try:
            await self.app(scope, receive, send)
        finally:
            self.tasks.discard(task)

    def cut_short(self) -> None:
        if self.tasks:
            log.warning("Cancelling %d request(s) still running", len(self.tasks))
        for task in self.tasks:
            task.cancel()


def wrap(app: ASGIApp, trusted_proxies: str) -> ASGIApp:
    """`app` as a worker serves it: `X-Forwarded-For`/`-Proto` believed only from
    `trusted_proxies` (banatie.live.client_ip), and its requests cancellable (InFlight)."""
    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    from banatie.live.client_ip import trusted_hosts

    served: ASGIApp = InFlight(app)
    trusted = trusted_hosts(trusted_proxies)
    if trusted:  # nobody's by default (granian's own default would trust 127.0.0.1)
        served = wrap_asgi_with_proxy_headers(served, trusted)
    return served


def worker_app() -> ASGIApp:
    """What each worker serves (granian calls this factory in the worker): the app, wrapped."""
    die_with_supervisor()
    from banatie.app import create_app
    from banatie.settings import Settings

    settings = Settings()
    return wrap(create_app(settings), settings.trusted_proxies)


def main(argv: list[str]) -> None:
    with os.fdopen(int(argv[1]), "rb") as carrier:
        plan: Plan = json.loads(carrier.read())
    supervise(plan)


if __name__ == "__main__":  # not in the workers: they import this module as banatie.serving
    main(sys.argv)
