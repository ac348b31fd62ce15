"""Every way Gemini can fail a generation, through the API, on SQLite and PostgreSQL.

Each case checks the answer (status, code, reason, Retry-After), the stored generation (`failed`
with its error), the quota (nothing charged, the reservation released), and that no image row
and no blob is left behind; then that the project still generates once Gemini recovers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from banatie.settings import Settings
from tests.conftest import Keys
from tests.integration.providers.support import (
    blob_files,
    generate,
    generations,
    image_total,
    upload,
    usage_used,
)
from tests.support.gemini_server import (
    Behaviour,
    BlockPrompt,
    ClientFailure,
    DeadlineExceeded,
    FinishWithoutImage,
    GeminiServer,
    ImageReply,
    JsonText,
    Kind,
    Malformed,
    RateLimit,
    RecordedRequest,
    ServerFailure,
    Slow,
)
from tests.support.images import solid_png

ATTEMPTS = 3  # gemini_max_retries=2 in the test settings


@dataclass(frozen=True)
class Case:
    behaviours: tuple[Behaviour, ...]
    status: int
    code: str
    kind: Kind = "image"
    reason: str | None = None
    retry_after: str | None = None
    attempts: int = 1
    auto_enhance: bool = False
    message_has: tuple[str, ...] = field(default_factory=tuple)
    # The Gemini call limit for this case: short only where the case is about a timeout.
    timeout: float = 30.0


CASES = {
    "prompt-blocked": Case(
        (BlockPrompt("PROHIBITED_CONTENT"),),
        422,
        "CONTENT_BLOCKED",
        reason="PROHIBITED_CONTENT",
        message_has=("blocked", "PROHIBITED_CONTENT"),
    ),
    "finish-image-safety": Case(
        (FinishWithoutImage("IMAGE_SAFETY"),),
        422,
        "CONTENT_BLOCKED",
        reason="IMAGE_SAFETY",
        message_has=("no image", "IMAGE_SAFETY"),
    ),
    # Not a policy block: tried once more, then a provider error that says why.
    "finish-stop-with-words": Case(
        (FinishWithoutImage("STOP", text="I can't create that image."),) * 2,
        502,
        "PROVIDER_ERROR",
        reason="NO_IMAGE",
        attempts=2,
        message_has=("I can't create that image.",),
    ),
    "finish-max-tokens": Case(
        (FinishWithoutImage("MAX_TOKENS"),) * 2,
        502,
        "PROVIDER_ERROR",
        reason="MAX_TOKENS",
        attempts=2,
    ),
    "finish-image-other": Case(
        (FinishWithoutImage("IMAGE_OTHER"),) * 2,
        502,
        "PROVIDER_ERROR",
        reason="IMAGE_OTHER",
        attempts=2,
    ),
    "finish-spii": Case((FinishWithoutImage("SPII"),), 422, "CONTENT_BLOCKED", reason="SPII"),
    "deadline-exceeded": Case(
        (DeadlineExceeded(),), 504, "PROVIDER_TIMEOUT", message_has=("DEADLINE_EXCEEDED",)
    ),
    "rate-limited": Case(
        (RateLimit(retry_delay="0.05s"),) * ATTEMPTS,
        503,
        "PROVIDER_ERROR",
        retry_after="1",
        attempts=ATTEMPTS,
        message_has=("rate limiting",),
    ),
    "rate-limited-long-wait": Case(
        (RateLimit(retry_delay="45s"),),  # longer than we hold a request: no retry
        503,
        "PROVIDER_ERROR",
        retry_after="45",
    ),
    "server-error": Case(
        (ServerFailure(500),) * ATTEMPTS,
        502,
        "PROVIDER_ERROR",
        attempts=ATTEMPTS,
        message_has=("after 3 attempt(s)", "500"),
    ),
    "overloaded": Case((ServerFailure(503),) * ATTEMPTS, 502, "PROVIDER_ERROR", attempts=ATTEMPTS),
    "invalid-argument": Case(
        (ClientFailure(),), 502, "PROVIDER_ERROR", message_has=("INVALID_ARGUMENT",)
    ),
    "slow": Case(
        (Slow(seconds=5),),
        504,
        "PROVIDER_TIMEOUT",
        message_has=("did not answer", "within 1s"),
        timeout=1.0,
    ),
    "malformed-body": Case((Malformed(),), 502, "PROVIDER_ERROR", message_has=("malformed",)),
    "not-an-image": Case(
        (ImageReply(b"definitely not a png", "image/png"),),
        502,
        "PROVIDER_ERROR",
        message_has=("not an image",),
    ),
    # The enhancer agent fails first (autoEnhance on): the image model is never asked.
    "enhancer-blocked": Case(
        (BlockPrompt("BLOCKLIST"),),
        422,
        "CONTENT_BLOCKED",
        kind="enhance",
        reason="BLOCKLIST",
        auto_enhance=True,
    ),
    "enhancer-server-error": Case(
        (ServerFailure(500),) * ATTEMPTS,
        502,
        "PROVIDER_ERROR",
        kind="enhance",
        attempts=ATTEMPTS,
        auto_enhance=True,
    ),
    "enhancer-bad-json": Case(
        (JsonText("{not json"),),
        502,
        "PROVIDER_ERROR",
        kind="enhance",
        auto_enhance=True,
        message_has=("malformed JSON",),
    ),
    "enhancer-slow": Case(
        (Slow(seconds=5),),
        504,
        "PROVIDER_TIMEOUT",
        kind="enhance",
        auto_enhance=True,
        timeout=1.0,
    ),
}


@pytest.mark.parametrize(
    ("case", "gemini"),
    [(case, {"gemini_timeout_seconds": case.timeout}) for case in CASES.values()],
    ids=list(CASES),
    indirect=["gemini"],
)
async def test_failure_is_recorded_uncharged_and_leaves_nothing(
    client: httpx.AsyncClient,
    keys: Keys,
    gemini_server: GeminiServer,
    settings: Settings,
    case: Case,
) -> None:
    gemini_server.queue(*case.behaviours, kind=case.kind)

    response = await generate(
        client,
        keys,
        prompt="a poster of a red bicycle",
        aspectRatio="3:2",
        autoEnhance=case.auto_enhance,
        alias="@poster",
    )

    assert response.status_code == case.status, response.text
    body = response.json()
    assert body["success"] is False
    error = body["error"]
    assert error["code"] == case.code
    for fragment in case.message_has:
        assert fragment in error["message"], error["message"]
    if case.reason is not None:
        assert error["details"] == {"reason": case.reason}
        assert case.reason in error["message"]
    if case.retry_after is not None:
        assert response.headers["retry-after"] == case.retry_after
    else:
        assert "retry-after" not in response.headers
    assert gemini_server.api_key not in response.text
    assert gemini_server.pending() == 0, "every queued behaviour was consumed"
    # A request is recorded once answered: a slow one when it notices the client has gone.
    asked = await recorded(gemini_server, case.kind, case.attempts)
    assert len(asked) == case.attempts
    if case.kind == "enhance":
        assert gemini_server.requests_of("image") == []
    assert gemini_server.requests_of("analyze") == []

    # The generation is stored as failed, with the error the API gave.
    (generation,) = await generations(client, keys)
    assert generation["status"] == "failed"
    assert generation["errorCode"] == case.code
    assert generation["errorMessage"] == error["message"]
    assert generation["outputImage"] is None
    assert generation["originalPrompt"] == "a poster of a red bicycle"
    failed = await client.get("/api/v1/generations?status=failed", headers=keys.headers())
    assert failed.json()["pagination"]["total"] == 1
    # Nothing charged, nothing stored, the alias not taken.
    assert await usage_used(client, keys) == 0
    assert await image_total(client, keys) == 0
    assert blob_files(settings.data_dir) == []
    poster = await client.get("/api/v1/images/@poster", headers=keys.headers())
    assert poster.status_code == 404


async def test_a_failed_generation_with_references_recovers_by_regeneration(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer, settings: Settings
) -> None:
    """References were sent with every attempt; the stored request regenerates once Gemini is
    back, into one charged generation; the references themselves are untouched."""
    logo_png = solid_png(32, 32, (200, 30, 30))
    logo = await upload(client, keys, logo_png, "@logo")
    blobs = blob_files(settings.data_dir)
    assert len(blobs) == 1
    gemini_server.reset()
    gemini_server.queue(*CASES["rate-limited"].behaviours, kind="image")
    failed = await generate(client, keys, prompt="a poster with @logo", alias="@poster")
    assert failed.status_code == 503, failed.text
    asked = gemini_server.requests_of("image")
    assert len(asked) == ATTEMPTS
    assert all([i.data for i in r.images] == [logo_png] for r in asked)
    (generation,) = await generations(client, keys)
    assert generation["status"] == "failed"
    assert [r["id"] for r in generation["referencedImages"]] == [logo["id"]]
    assert await usage_used(client, keys) == 0
    assert await image_total(client, keys) == 1
    assert blob_files(settings.data_dir) == blobs

    gemini_server.reset()
    retried = await client.post(
        f"/api/v1/generations/{generation['id']}/regenerate", headers=keys.headers()
    )
    assert retried.status_code == 200, retried.text
    data = retried.json()["data"]
    assert data["status"] == "success" and data["errorCode"] is None
    assert data["outputImage"]["alias"] == "@poster"
    (image,) = gemini_server.requests_of("image")
    assert [i.data for i in image.images] == [logo_png]
    assert await usage_used(client, keys) == 1
    assert await image_total(client, keys) == 2
    assert len(blob_files(settings.data_dir)) == 2


async def recorded(server: GeminiServer, kind: Kind, count: int) -> list[RecordedRequest]:
    for _ in range(100):
        if len(server.requests_of(kind)) >= count:
            break
        await asyncio.sleep(0.02)
    return server.requests_of(kind)


def _count_blobs(data_dir: Path) -> int:
    return len(blob_files(data_dir))


async def test_failures_never_use_up_the_allowance(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer, settings: Settings
) -> None:
    """More failures than the monthly allowance: none counts, the next success does."""
    allowance = settings.free_monthly_generations
    gemini_server.queue(BlockPrompt("SAFETY"), kind="image")
    gemini_server.queue(ServerFailure(500), ServerFailure(500), ServerFailure(500), kind="image")
    gemini_server.queue(Malformed(), FinishWithoutImage("IMAGE_SAFETY"), kind="image")
    statuses = [
        (await generate(client, keys, prompt=f"try {i}", autoEnhance=False)).status_code
        for i in range(4)
    ]
    assert statuses == [422, 502, 502, 422]
    usage = (await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]
    assert usage["used"] == 0 and usage["remaining"] == allowance
    ok = await generate(client, keys, prompt="finally", autoEnhance=False)
    assert ok.status_code == 201, ok.text
    assert await usage_used(client, keys) == 1
    assert [g["status"] for g in await generations(client, keys)].count("failed") == 4
    assert _count_blobs(settings.data_dir) == 1


@pytest.mark.parametrize(
    "gemini", [{"gemini_image_model": "gemini-2.0-flash-exp-image-generation"}], indirect=True
)
async def test_a_pinned_model_that_is_not_listed_is_a_clear_503(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer, settings: Settings
) -> None:
    response = await generate(client, keys, prompt="a kite", autoEnhance=False)
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["code"] == "MODEL_UNAVAILABLE"
    assert "'gemini-2.0-flash-exp-image-generation'" in error["message"]
    assert "BANATIE_GEMINI_IMAGE_MODEL" in error["message"]
    assert "gemini-3.1-flash-image-preview" in error["message"]  # what is listed
    assert gemini_server.requests_of("image") == []
    (generation,) = await generations(client, keys)
    assert (generation["status"], generation["errorCode"]) == ("failed", "MODEL_UNAVAILABLE")
    assert await usage_used(client, keys) == 0
    assert blob_files(settings.data_dir) == []
    info = (await client.get("/api/info")).json()["data"]
    assert info["models"]["image"]["error"]["code"] == "MODEL_UNAVAILABLE"
    assert info["models"]["text"]["model"] == "gemini-3-flash-preview"


async def test_a_retired_model_is_replaced_without_a_failed_generation(
    client: httpx.AsyncClient, keys: Keys, gemini_server: GeminiServer
) -> None:
    first = await generate(client, keys, prompt="a kite", autoEnhance=False)
    assert first.json()["data"]["model"] == "gemini-3.1-flash-image-preview"
    gemini_server.set_models("gemini-2.5-flash-image", "gemini-3-flash-preview")
    second = await generate(client, keys, prompt="a kite", autoEnhance=False)
    assert second.status_code == 201, second.text
    assert second.json()["data"]["model"] == "gemini-2.5-flash-image"
    assert [r.status for r in gemini_server.requests_of("image")] == [200, 404, 200]
    info = (await client.get("/api/info")).json()["data"]
    assert info["models"]["image"]["model"] == "gemini-2.5-flash-image"
    assert len(info["aspectRatios"]) == 10
