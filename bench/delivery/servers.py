"""The two servers under test, started as separate processes on 127.0.0.1.

* Banatie: uvicorn as `banatie serve` ran it before granian (factory `banatie.app:create_app`,
  settings from BANATIE_* variables), N worker processes, SQLite and the local blob store in a
  temp folder, access log off (as thumbor's is at `-l warning`). URLs are signed with a signing
  key, as a deployment serving unbounded variants would (the cap on unsigned variants stays on).
* thumbor: from PyPI, in its own virtualenv (`bench/.venv-thumbor`, created on first use), file
  loader, file result storage, `--processes 2`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
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


def _asgi_server(
    name: str, program: list[str], env: dict[str, str], port: int, *, workers: int, log: Path
) -> Server:
    """`banatie.app:create_app` under an ASGI server (`python -m uvicorn|granian` + its own
    options) on a loopback port, access log off; returns once /health answers."""
    command = [
        sys.executable,
        "-m",
        *program,
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
    return spawn(name, command, env, port, log=log)


def spawn(
    name: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    *,
    log: Path,
    cwd: Path = ROOT,
    health: str = "/health",
) -> Server:
    """Start a server in its own process group; returns once `health` answers."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    try:
        wait_http(f"{server.base_url}{health}", timeout=180)
    except BaseException:
        server.stop()
        raise
    return server


def run_uvicorn(env: dict[str, str], port: int, *, workers: int, log: Path) -> Server:
    """`banatie.app:create_app` under uvicorn; shared by the delivery and live benchmarks."""
    program = ["uvicorn", "banatie.app:create_app", "--factory"]
    return _asgi_server("banatie", program, env, port, workers=workers, log=log)


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


def start_thumbor(
    workdir: Path, source: bytes, *, processes: int = 2, more: dict[str, bytes] | None = None
) -> Server:
    """thumbor serving `source` as bench.png (and `more`, name -> bytes, beside it)."""
    exe = ensure_thumbor()
    images = workdir / "thumbor-images"
    images.mkdir(parents=True, exist_ok=True)
    (images / "bench.png").write_bytes(source)
    for name, data in (more or {}).items():
        (images / name).write_bytes(data)
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


# -- `banatie serve`, as a user starts it; the same app under uvicorn -------------------------


def serve_env(workdir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A Banatie data dir in `workdir`, signed URLs, and the abuse limits lifted (the benchmark
    is one client IP making thousands of requests)."""
    env = _banatie_env(workdir / "banatie", port, extra)
    env.update(
        BANATIE_FIRST_RUN_KEY_FILE=str(workdir / "banatie-key.txt"),
        BANATIE_LIVE_IP_RATE_LIMIT="1000000/hour",
        BANATIE_FREE_RATE_LIMIT="1000000/minute",
        BANATIE_FREE_MONTHLY_GENERATIONS="1000000",
        BANATIE_MAX_UPLOAD_BYTES=str(32 * 1024 * 1024),  # the 2752x1536 PNG of the AVIF case
        BANATIE_FREE_STORAGE_MB="100000",  # hundreds of images and their decoded pixels
    )
    env.update(extra or {})
    return env


def start_serve(workdir: Path, *, extra_env: dict[str, str] | None = None) -> Server:
    """`banatie serve` with its defaults (one worker per core), as a user starts it,
    on a free loopback port; migrates and writes the first key to `workdir/banatie-key.txt`."""
    port = free_port()
    command = [sys.executable, "-m", "banatie.cli", "serve", "--port", str(port)]
    return spawn(
        "banatie",
        command,
        serve_env(workdir, port, extra_env),
        port,
        log=workdir / "banatie-serve.log",
        cwd=workdir,
    )


def start_uvicorn(
    workdir: Path, *, workers: int, extra_env: dict[str, str] | None = None
) -> Server:
    """The same app and data dir on uvicorn (`banatie serve`'s server before granian), same
    workers and libvips threads: the peer of `banatie serve` in the server comparison."""
    from banatie.observability.logs import logging_config

    port = free_port()
    env = serve_env(workdir, port, extra_env)
    env["BANATIE_CPU_WORKERS"] = str(max(1, (os.cpu_count() or 1) // workers))
    # As `serve` configured uvicorn: its logging (one access line a request, banatie.access),
    # uvicorn's access log off, nobody's X-Forwarded-For believed.
    log_config = workdir / "uvicorn-logging.json"
    log_config.write_text(json.dumps(logging_config("text", "INFO")))
    program = ["uvicorn", "banatie.app:create_app", "--factory", "--log-config", str(log_config)]
    program.append("--no-proxy-headers")
    return _asgi_server("uvicorn", program, env, port, workers=workers, log=workdir / "u.log")


# -- ipx 3 ------------------------------------------------------------------------------------

IPX_DIR = ROOT / "bench" / "ipx"


class IpxUnavailable(RuntimeError):
    pass


def ensure_ipx() -> None:
    """ipx from npm into bench/ipx/node_modules (bench/ipx/package.json), on first use."""
    if (IPX_DIR / "node_modules" / "ipx" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise IpxUnavailable("node and npm are needed for ipx (apt-get install nodejs npm)")
    print("installing ipx 3 with npm into bench/ipx (first run only) ...", flush=True)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(IPX_DIR)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise IpxUnavailable(f"npm install ipx failed:\n{done.stderr[-2000:]}")


def start_ipx(workdir: Path, images: dict[str, bytes]) -> Server:
    ensure_ipx()
    folder = workdir / "ipx-images"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in images.items():
        (folder / name).write_bytes(data)
    port = free_port()
    command = ["node", str(IPX_DIR / "server.mjs"), str(folder), str(port)]
    first = next(iter(images))
    return spawn(
        "ipx",
        command,
        dict(os.environ),
        port,
        log=workdir / "ipx.log",
        cwd=IPX_DIR,
        health=f"/w_8/{first}",
    )
