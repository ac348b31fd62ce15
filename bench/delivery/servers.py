"""The two servers under test, started as separate processes on 127.0.0.1.

* Banatie: uvicorn as `banatie serve` runs it (factory `banatie.app:create_app`, settings from
  BANATIE_* variables), N worker processes, SQLite and the local blob store in a temp folder,
  access log off (as thumbor's is at `-l warning`). URLs are signed with a signing key, as a
  deployment serving unbounded variants would (the cap on unsigned variants stays on).
* thumbor: from PyPI, in its own virtualenv (`bench/.venv-thumbor`, created on first use), file
  loader, file result storage, `--processes 2`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.delivery.harness import wait_http

ROOT = Path(__file__).resolve().parents[2]
THUMBOR_VENV = ROOT / "bench" / ".venv-thumbor"
THUMBOR_REQUIREMENT = "thumbor==7.8.0"
SIGNING_KEY = "bench-signing-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Stop the server and its worker processes (its own process group, started by us)."""
        group = self.process.pid  # start_new_session=True: the group id is the server's pid
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)  # forked workers the server left behind


# -- Banatie ----------------------------------------------------------------------------------


@dataclass
class BanatieSetup:
    server: Server
    image_id: str


def _banatie_env(data_dir: Path, port: int, extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env.update(
        BANATIE_DATA_DIR=str(data_dir),
        BANATIE_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        BANATIE_DELIVERY_SIGNING_KEY=SIGNING_KEY,
        BANATIE_FIRST_RUN_ORGANIZATION="bench",
        BANATIE_FIRST_RUN_PROJECT="main",
    )
    env.update(extra or {})
    return env


def run_uvicorn(env: dict[str, str], port: int, *, workers: int, log: Path) -> Server:
    """`banatie.app:create_app` under uvicorn on a loopback port; returns once /health answers.
    Shared by the delivery and live benchmarks."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "banatie.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=out, start_new_session=True
        )
    server = Server("banatie", process, f"http://127.0.0.1:{port}", log)
    try:
        wait_http(f"{server.base_url}/health")
    except BaseException:
        server.stop()
        raise
    return server


def launch_banatie(
    workdir: Path, *, workers: int, extra_env: dict[str, str] | None = None
) -> Server:
    """uvicorn on the data dir `workdir / "banatie"` (already migrated)."""
    port = free_port()
    env = _banatie_env(workdir / "banatie", port, extra_env)
    return run_uvicorn(env, port, workers=workers, log=workdir / "banatie.log")


def start_banatie(
    workdir: Path, source: bytes, *, workers: int, extra_env: dict[str, str] | None = None
) -> BanatieSetup:
    data_dir = workdir / "banatie"
    env = _banatie_env(data_dir, 0, extra_env)
    # `banatie serve` migrates and makes the first key before starting uvicorn; same here.
    key_file = workdir / "banatie-key.txt"
    setup = (
        "import asyncio, sys\n"
        "from banatie.db import migrate\n"
        "from banatie.settings import Settings\n"
        "from banatie.accounts.first_run import ensure_first_run\n"
        "s = Settings()\n"
        "migrate.upgrade(s.resolved_database_url)\n"
        "first = asyncio.run(ensure_first_run(s))\n"
        "open(sys.argv[1], 'w').write(first.key)\n"
    )
    subprocess.run([sys.executable, "-c", setup, str(key_file)], env=env, check=True, cwd=ROOT)
    server = launch_banatie(workdir, workers=workers, extra_env=extra_env)
    try:
        response = httpx.post(
            f"{server.base_url}/api/v1/images/upload",
            headers={"X-API-Key": key_file.read_text().strip()},
            files={"file": ("bench.png", source, "image/png")},
            timeout=60,
        )
        response.raise_for_status()
    except BaseException:
        server.stop()
        raise
    return BanatieSetup(server, response.json()["data"]["image"]["id"])


# -- thumbor ----------------------------------------------------------------------------------


class ThumborUnavailable(RuntimeError):
    pass


def ensure_thumbor() -> Path:
    """The thumbor executable in its own virtualenv, installed from PyPI on first use."""
    exe = THUMBOR_VENV / "bin" / "thumbor"
    if exe.exists():
        return exe
    print(f"installing {THUMBOR_REQUIREMENT} into {THUMBOR_VENV} (first run only)...", flush=True)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(THUMBOR_VENV)
        subprocess.run(
            [
                str(THUMBOR_VENV / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                THUMBOR_REQUIREMENT,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        raise ThumborUnavailable(
            f"pip install {THUMBOR_REQUIREMENT} failed:\n{exc.stderr[-2000:]}"
        ) from exc
    except OSError as exc:
        raise ThumborUnavailable(f"cannot create {THUMBOR_VENV}: {exc}") from exc
    if not exe.exists():
        raise ThumborUnavailable(f"{exe} missing after installing {THUMBOR_REQUIREMENT}")
    return exe


THUMBOR_CONF = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = {images!r}
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = 'thumbor.result_storages.file_storage'
RESULT_STORAGE_FILE_STORAGE_ROOT_PATH = {results!r}
RESULT_STORAGE_STORES_UNSAFE = True
ALLOW_UNSAFE_URL = True
SECURITY_KEY = 'bench'
AUTO_WEBP = False
PRESERVE_EXIF_INFO = False
"""


def start_thumbor(workdir: Path, source: bytes, *, processes: int = 2) -> Server:
    exe = ensure_thumbor()
    images = workdir / "thumbor-images"
    images.mkdir(parents=True, exist_ok=True)
    (images / "bench.png").write_bytes(source)
    conf = workdir / "thumbor.conf"
    conf.write_text(
        THUMBOR_CONF.format(images=str(images), results=str(workdir / "thumbor-results"))
    )
    port = free_port()
    log = workdir / "thumbor.log"
    command = [
        str(exe),
        "-c",
        str(conf),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-l",
        "warning",
        "--processes",
        str(processes),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=out, cwd=workdir, start_new_session=True
        )
    server = Server("thumbor", process, f"http://127.0.0.1:{port}", log)
    try:
        wait_http(f"{server.base_url}/healthcheck")
    except BaseException:
        server.stop()
        raise
    return server


async def warm(base_url: str, paths: list[str], concurrency: int = 4) -> None:
    """Request each path once (renders and stores it) so the hits phase finds it cached."""
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        queue = list(paths)

        async def worker() -> None:
            while queue:
                response = await client.get(queue.pop())
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
