"""nginx serving static files on a loopback port with a throw-away config (the limit).

Installed with apt when missing (root only: `apt-get install -y nginx-light`, else `nginx`).
It runs in the foreground as the current user: when that is root, `user root` keeps the workers
able to read the temp folder; everything it writes (pid, temp files, error log) stays there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.delivery.harness import cpu_count, wait_http
from bench.delivery.servers import Server, free_port

CANDIDATES = ("nginx", "/usr/sbin/nginx")


def nginx_path() -> str | None:
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def apt_install(*packages: str) -> bool:
    """Install the first package that apt can install; False when apt is not ours to use."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True)
    for package in packages:
        done = subprocess.run(
            ["apt-get", "install", "-y", "-q", package], env=env, capture_output=True
        )
        if done.returncode == 0:
            return True
    return False


def ensure_nginx() -> str:
    path = nginx_path()
    if path is None:
        apt_install("nginx-light", "nginx")
        path = nginx_path()
    if path is None:
        raise SystemExit("nginx is missing and cannot be installed here: apt-get install nginx")
    return path


def ensure_wrk() -> None:
    if shutil.which("wrk") is None:
        apt_install("wrk")  # optional: the harness falls back to an httpx load generator


CONFIG = """
worker_processes {workers};
daemon off;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    types {{ image/png png; image/jpeg jpg; image/webp webp; }}
    server {{
        listen 127.0.0.1:{port};
        root {www};
        etag on;
        location / {{ add_header Cache-Control "public, max-age=86400"; }}
    }}
}}
"""


def start_nginx(workdir: Path, files: dict[str, bytes], *, workers: int | None = None) -> Server:
    """Serve `files` (name -> bytes) from `workdir/www` on a free loopback port."""
    binary = ensure_nginx()
    root = workdir / "nginx"
    www = root / "www"
    www.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (www / name).write_bytes(data)
    for path in (workdir, root, www):
        path.chmod(0o755)
    port = free_port()
    config = root / "nginx.conf"
    config.write_text(
        CONFIG.format(
            workers=workers or cpu_count(),
            root=root,
            www=www,
            port=port,
            user="user root;" if os.geteuid() == 0 else "",
        )
    )
    log = root / "nginx.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "-p", str(root), "-c", str(config), "-e", str(root / "nginx-error.log")],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    server = Server("nginx", process, f"http://127.0.0.1:{port}", log)
    try:
        wait_http(f"{server.base_url}/{next(iter(files))}", timeout=20)
    except BaseException:
        server.stop()
        raise
    return server
