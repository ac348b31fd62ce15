"""Every request has an id (the client's `X-Request-ID` when sane), echoed in the response and
its error body and carried by every log line written while it runs; one access line per
request names its route template, status, duration and project; no secret reaches a line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from banatie.observability.logs import RequestIdFilter, make_formatter
from banatie.providers.ports import SynthesisRequest, SynthesizedImage
from tests.conftest import Keys


class JsonLog:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "banatie.access"]


@pytest.fixture
def json_log(settings: Any) -> Iterator[JsonLog]:
    """Banatie's loggers through the JSON formatter `banatie serve` installs."""
    log = JsonLog()
    handler = logging.StreamHandler(log.stream)
    handler.setFormatter(make_formatter("json", settings.secrets))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("banatie")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield log
    logger.removeHandler(handler)
    logger.setLevel(previous)


async def test_a_request_id_is_made_or_kept_and_echoed(client: httpx.AsyncClient) -> None:
    made = await client.get("/api/info")
    assert len(made.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != (await client.get("/api/info")).headers["X-Request-ID"]

    kept = await client.get("/api/info", headers={"X-Request-ID": "lb-7f3c.42"})
    assert kept.headers["X-Request-ID"] == "lb-7f3c.42"

    forged = await client.get("/api/info", headers={"X-Request-ID": "x" * 500})
    assert forged.headers["X-Request-ID"] != "x" * 500
    assert len(forged.headers["X-Request-ID"]) == 32


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/api/v1/generations", {}, 401, "UNAUTHORIZED"),  # no key: a router's error
        ("GET", "/api/v1/nothing-here", {}, 404, "NOT_FOUND"),  # no route
        ("GET", "/api/info?q=%00", {}, 400, "VALIDATION_ERROR"),  # the edge's URL guard
        ("POST", "/api/v1/enhance", {"content": b"x" * (2 * 1024 * 1024)}, 413, None),
        ("GET", "/cdn/acme/site/img/@missing", {}, 404, None),  # the delivery fast path
    ],
)
async def test_error_bodies_name_the_request(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str | None,
) -> None:
    response = await client.request(method, path, headers={"X-Request-ID": "req-err-1"}, **kwargs)
    assert response.status_code == status
    assert response.headers["X-Request-ID"] == "req-err-1"
    error = response.json()["error"]
    assert error["requestId"] == "req-err-1"
    if code:
        assert error["code"] == code


async def test_one_access_line_per_request_with_route_template_and_project(
    client: httpx.AsyncClient, keys: Keys, json_log: JsonLog
) -> None:
    created = await client.post(
        "/api/v1/generations", headers=keys.headers(), json={"prompt": "a red fox"}
    )
    assert created.status_code == 201, created.text
    generation_id = created.json()["data"]["id"]
    image_id = created.json()["data"]["outputImage"]["id"]
    fetched = await client.get(
        f"/api/v1/generations/{generation_id}",
        headers={**keys.headers(), "X-Request-ID": "fetch-1"},
    )
    assert fetched.status_code == 200
    cdn = await client.get(f"/cdn/acme/site/img/{image_id}?w=64")
    assert cdn.status_code == 200

    lines = json_log.access()
    assert len(lines) == 3  # the fixture's key requests ran before the log was attached
    post, get, image = lines
    assert post["method"] == "POST" and post["route"] == "/api/v1/generations"
    assert post["status"] == 201 and post["duration_ms"] > 0
    assert post["project"] == "acme/site"
    assert post["request_id"] == created.headers["X-Request-ID"]
    assert get["route"] == "/api/v1/generations/{generation_id}"
    assert get["path"] == f"/api/v1/generations/{generation_id}"
    assert get["request_id"] == "fetch-1" and get["status"] == 200
    # Answered by the delivery fast path, before any route ran: still its template.
    assert image["route"] == "/cdn/{org}/{project}/img/{ref}"
    assert image["status"] == 200 and image["request_id"] == cdn.headers["X-Request-ID"]


async def test_refusals_are_logged_with_their_code(
    client: httpx.AsyncClient, json_log: JsonLog
) -> None:
    await client.get("/api/v1/images", headers={"X-API-Key": "bnt_" + "A" * 43})
    (line,) = json_log.access()
    assert line["status"] == 401 and line["error_code"] == "UNAUTHORIZED"
    assert line["route"] == "/api/v1/images"


async def test_lines_written_during_a_request_carry_its_id_and_no_secret(
    app: FastAPI, client: httpx.AsyncClient, keys: Keys, json_log: JsonLog
) -> None:
    class Leaky:
        """A provider whose error repeats what it was sent (some do)."""

        name = "leaky"

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def capabilities(self) -> Any:
            return await self.inner.capabilities()

        async def synthesize(self, request: SynthesisRequest) -> SynthesizedImage:
            raise RuntimeError(
                f"refused: headers={{'x-api-key': '{keys.project}'}} "
                f"Authorization: Bearer {keys.master} url=/v1?key=AIzaSyD-0123456789abcdefghijklmnop"
            )

    runtime = app.state.runtime
    runtime.synthesizer = Leaky(runtime.synthesizer)
    response = await client.post(
        "/api/v1/generations",
        headers={**keys.headers(), "X-Request-ID": "leak-1"},
        json={"prompt": "a fox"},
    )
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "leak-1"
    assert response.json()["error"] == {
        "message": "internal error",
        "code": "INTERNAL_ERROR",
        "requestId": "leak-1",
    }
    text = json_log.stream.getvalue()
    for secret in (keys.project, keys.master, "AIzaSyD-0123456789abcdefghijklmnop"):
        assert secret not in text
    lines = json_log.lines()
    failure = [line for line in lines if line["logger"] == "banatie.generation.pipeline"]
    assert failure and "RuntimeError: refused" in failure[0]["exc_info"]
    assert {line["request_id"] for line in lines} == {"leak-1"}
    (access,) = json_log.access()
    assert access["status"] == 500 and access["error_code"] == "INTERNAL_ERROR"
