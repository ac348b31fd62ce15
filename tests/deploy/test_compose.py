"""deploy/docker-compose.yml as `docker compose config` resolves it, and its Caddyfile as Caddy
reads it: what an operator relies on when running `docker compose up`."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.deploy.tools import (
    CADDYFILE,
    DEPLOY,
    compose_config,
    run_compose,
    running_caddy,
    tool,
)


def test_compose_file_validates(tmp_path: Path) -> None:
    result = run_compose(
        tmp_path, "config", "--quiet", env={"POSTGRES_PASSWORD": "a", "MINIO_ROOT_PASSWORD": "b"}
    )
    assert result.returncode == 0, result.stderr


def test_a_missing_secret_is_named(tmp_path: Path) -> None:
    result = run_compose(tmp_path, "config", "--quiet", env={"MINIO_ROOT_PASSWORD": "b"})
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr and "deploy/.env" in result.stderr


def test_services_and_start_order(tmp_path: Path) -> None:
    services = compose_config(tmp_path)["services"]
    assert set(services) == {
        "app",
        "worker",
        "migrate",
        "proxy",
        "postgres",
        "redis",
        "minio",
        "minio-init",
    }
    app = services["app"]
    assert app["deploy"]["replicas"] == 2
    assert "ports" not in app  # reachable through the proxy only

    def after(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    assert after("app") == {
        "migrate": "service_completed_successfully",
        "minio-init": "service_completed_successfully",
        "postgres": "service_healthy",
        "redis": "service_healthy",
    }
    assert after("worker") == after("app")
    assert services["worker"]["command"] == ["banatie", "worker"]
    assert services["worker"]["healthcheck"]["disable"] is True
    assert after("migrate") == {"postgres": "service_healthy"}
    assert after("minio-init") == {"minio": "service_healthy"}
    assert after("proxy") == {"app": "service_healthy"}
    for name in ("postgres", "redis", "minio"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["migrate"]["command"] == ["banatie", "migrate"]
    assert services["migrate"]["restart"] == "no"
    published = {int(port["target"]) for port in services["proxy"]["ports"]}
    assert published == {80, 443}
    for name, service in services.items():
        if name not in ("proxy",):
            assert "ports" not in service, f"{name} is published"


def test_the_grace_period_outlasts_the_shutdown_timeout(tmp_path: Path) -> None:
    """Docker kills a container stop_grace_period after SIGTERM: the server's shutdown timeout
    must end before, leaving time to give unfinished work back (docs/operations.md)."""
    services = compose_config(tmp_path)["services"]
    for name in ("app", "worker"):
        service = services[name]
        timeout = float(service["environment"]["BANATIE_SHUTDOWN_TIMEOUT_SECONDS"])
        grace = service["stop_grace_period"]
        seconds = float(grace.removesuffix("s")) if isinstance(grace, str) else grace / 1e9
        assert seconds >= timeout + 5, (name, grace, timeout)


def test_app_and_migrate_share_one_configuration(tmp_path: Path) -> None:
    services = compose_config(tmp_path)["services"]
    app, migrate = services["app"], services["migrate"]
    assert app["environment"] == migrate["environment"] == services["worker"]["environment"]
    assert app["image"] == migrate["image"]
    env = app["environment"]
    assert env["BANATIE_DATABASE_URL"] == "postgresql://banatie:pg-secret@postgres:5432/banatie"
    assert env["BANATIE_STORAGE_URL"].startswith("s3://banatie?endpoint=http://minio:9000")
    assert env["AWS_SECRET_ACCESS_KEY"] == "minio-secret"
    assert env["BANATIE_REDIS_URL"] == "redis://redis:6379/0"
    assert env["PORT"] == "8000"
    # Hardened like the image: non-root (the image's USER), read-only, no capabilities.
    assert app["read_only"] is True and app["cap_drop"] == ["ALL"]


def test_storage_and_database_keep_their_data_in_volumes(tmp_path: Path) -> None:
    config = compose_config(tmp_path)
    services = config["services"]

    def volumes(name: str) -> dict[str, str]:
        return {
            v["target"]: v["source"]
            for v in services[name].get("volumes", [])
            if v["type"] == "volume"
        }

    assert volumes("postgres") == {"/var/lib/postgresql/data": "postgres-data"}
    assert volumes("minio") == {"/data": "minio-data"}
    assert volumes("redis") == {"/data": "redis-data"}
    assert {"postgres-data", "minio-data", "redis-data", "caddy-data"} <= set(config["volumes"])


def test_bucket_is_created_by_the_init_service(tmp_path: Path) -> None:
    init = compose_config(tmp_path, env={"BANATIE_BUCKET": "pictures"})["services"]["minio-init"]
    script = " ".join(init["command"])
    assert "mc mb --ignore-existing" in script and init["environment"]["BUCKET"] == "pictures"


def _caddy_json(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = subprocess.run(
        [str(tool("caddy")), "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"HOME": str(tmp_path), **(env or {})},
        cwd=DEPLOY,
    )
    assert result.returncode == 0, result.stderr
    adapted: dict[str, Any] = json.loads(result.stdout)
    return adapted


def test_caddyfile_proxies_to_every_app_replica(tmp_path: Path) -> None:
    server = _caddy_json(tmp_path)["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":80"]
    *answered, proxy = server["routes"]
    # Answered by the proxy itself: {path matcher: (status, JSON body)}.
    responses = {
        tuple(route["match"][0]["path"]): (
            route["handle"][-1]["status_code"],
            json.loads(route["handle"][-1]["body"]),
        )
        for route in answered
        if route["handle"][-1]["handler"] == "static_response"
    }
    assert set(responses) == {("/metrics", "/metrics/*"), ("/api/bootstrap/*",)}
    status, body = responses[("/api/bootstrap/*",)]
    assert status == 403 and body["success"] is False and body["error"]["code"] == "FORBIDDEN"
    status, body = responses[("/metrics", "/metrics/*")]
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    handler = proxy["handle"][0]
    assert handler["handler"] == "reverse_proxy"
    assert handler["dynamic_upstreams"] == {
        "source": "a",
        "name": "app",
        "port": "8000",
        "refresh": 5_000_000_000,
    }
    assert handler["headers"]["request"]["set"]["X-Forwarded-For"] == ["{http.vars.client_ip}"]
    assert "CF-Connecting-IP" in server["client_ip_headers"]


def test_caddyfile_takes_the_site_address_and_cdn_ranges_from_the_environment(
    tmp_path: Path,
) -> None:
    adapted = _caddy_json(
        tmp_path,
        {
            "BANATIE_SITE_ADDRESS": "images.example.com",
            "BANATIE_PROXY_TRUSTED_RANGES": "private_ranges 173.245.48.0/20 2400:cb00::/32",
        },
    )
    server = adapted["apps"]["http"]["servers"]["srv0"]
    assert server["routes"][0]["match"][0]["host"] == ["images.example.com"]
    ranges = server["trusted_proxies"]["ranges"]
    assert "173.245.48.0/20" in ranges and "2400:cb00::/32" in ranges and "10.0.0.0/8" in ranges


def test_caddyfile_imports_an_origin_certificate_snippet(tmp_path: Path) -> None:
    imports = tmp_path / "caddy.d"
    imports.mkdir()
    (imports / "tls.caddy").write_text(
        "tls /etc/caddy/certs/origin.pem /etc/caddy/certs/origin.key\n"
    )
    adapted = _caddy_json(
        tmp_path,
        {"BANATIE_CADDY_IMPORTS": str(imports), "BANATIE_SITE_ADDRESS": "images.example.com"},
    )
    (loaded,) = adapted["apps"]["tls"]["certificates"]["load_files"]
    assert loaded["certificate"] == "/etc/caddy/certs/origin.pem"
    assert loaded["key"] == "/etc/caddy/certs/origin.key"


def test_caddy_does_not_serve_metrics_to_the_internet(tmp_path: Path) -> None:
    """deploy/Caddyfile run by Caddy in front of a stand-in replica that answers everything:
    `/metrics` stops at the proxy (404, the API's envelope), token or not; the rest passes."""
    asked: list[str] = []

    class Replica(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            pass

    replica = ThreadingHTTPServer(("127.0.0.1", 0), Replica)
    threading.Thread(target=replica.serve_forever, daemon=True).start()
    try:
        with running_caddy(tmp_path, "localhost", replica.server_address[1]) as base:
            passed = httpx.get(f"{base}/health", timeout=10)
            assert passed.status_code == 200 and asked == ["/health"]
            for path in ("/metrics", "/metrics/", "/metrics?x=1"):
                refused = httpx.get(
                    f"{base}{path}", headers={"Authorization": "Bearer the-token"}, timeout=10
                )
                assert refused.status_code == 404, path
                assert refused.json()["error"]["code"] == "NOT_FOUND"
            assert asked == ["/health"]
    finally:
        replica.shutdown()
