"""schemathesis against the OpenAPI document of a running server, authenticated with real keys
(a master key for /api/admin, the first-run project key elsewhere): whatever the schema allows,
no request gets a 5xx, and every response has a documented status, content type and shape.
(The schemathesis pytest plugin does not run on pytest 9 yet, so the operations are driven
through hypothesis directly.)"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.conftest import Server, free_port, start_server, stop_server

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MASTER_KEY_ARGS = ("keys", "create", "--org", "default", "--type", "master", "--name", "st")
#: Examples per operation: 40 operations, the whole run well under a minute.
EXAMPLES = 10


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    data_dir = tmp_path_factory.mktemp("openapi") / "var"
    server = start_server(data_dir, free_port())
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env["BANATIE_DATA_DIR"] = str(data_dir)
    made = subprocess.run(
        [sys.executable, "-m", "banatie.cli", *MASTER_KEY_ARGS],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    master = made.stdout.strip().splitlines()[-1]
    assert master.startswith("bnt_"), made.stdout
    yield server, master
    stop_server(server)


def test_every_operation_answers_as_documented(server: tuple[Server, str]) -> None:
    running, master = server
    base = running.base_url
    # Something to find: an image with an alias, so that by-alias routes reach real rows.
    upload = httpx.post(
        f"{base}/api/v1/images/upload",
        headers={"X-API-Key": running.key},
        files={"file": ("fox.png", _tiny_png(), "image/png")},
        data={"alias": "@fox"},
        timeout=30,
    )
    assert upload.status_code == 201, upload.text

    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    exercised: list[str] = []
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here
        exercised.append(operation.label)
        key = master if operation.path.startswith("/api/admin") else running.key
        try:
            _check(operation, base, key, statuses)
        except (Exception, FailureGroup) as exc:  # every failing operation, then fail once
            failures.append(f"{operation.label}: {str(exc).strip()[:1500]}")
    assert not failures, "\n\n".join(failures)
    labels = set(exercised)
    assert {"POST /api/v1/generations", "HEAD /cdn/{org}/{project}/img/{ref}"} <= labels
    assert "POST /api/admin/keys" in labels
    # The keys work, so the run reached real handlers, not only the auth check.
    assert sum(n for status, n in statuses.items() if 200 <= status < 300) > 30, statuses
    assert all(status < 500 for status in statuses), statuses


def _check(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    base: str,
    key: str,
    statuses: Counter[int],
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: schemathesis.Case[Any]) -> None:
        response = case.call(base_url=base, headers={"X-API-Key": key}, timeout=30)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers={"X-API-Key": key})

    answers_as_documented()


def _tiny_png() -> bytes:
    import pyvips

    return bytes(pyvips.Image.black(64, 48, bands=3).pngsave_buffer())
