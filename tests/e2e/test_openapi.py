"""schemathesis against the OpenAPI document of a running server: whatever the schema allows,
no request gets a 500. (The schemathesis pytest plugin does not run on pytest 9 yet, so the
operations are driven through hypothesis directly.)"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.conftest import Server

pytestmark = pytest.mark.slow


def test_no_server_errors(running_server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{running_server.base_url}/openapi.json")
    headers = {"X-API-Key": running_server.key}
    exercised = []
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        exercised.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(base_url=running_server.base_url, headers=headers, timeout=30)
            statuses.append(response.status_code)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} -> {response.status_code}: "
                f"{response.text[:300]}"
            )

        no_server_error()
    assert any("POST /api/v1/generations" in label for label in exercised)
    # The key works, so the run reached real handlers, not only the auth check.
    assert sum(200 <= status < 300 for status in statuses) > 10, sorted(set(statuses))
