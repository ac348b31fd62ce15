"""GeminiAnalyzer: Gemini vision merged over the local analysis, which stands on any failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from banatie.providers.gemini.analyzer import GeminiAnalyzer
from banatie.providers.gemini.client import GeminiClient
from banatie.providers.ports import AnalysisRequest, AssetAnalysis
from tests.support.gemini_server import (
    Behaviour,
    BlockPrompt,
    ClientFailure,
    FinishWithoutImage,
    GeminiServer,
    JsonText,
    Malformed,
    RateLimit,
    ServerFailure,
    Slow,
    proto_field,
    render_png,
)

PNG = render_png("3:2", "a yellow square")
LOCAL = AssetAnalysis(
    width=1248,
    height=832,
    mime_type="image/png",
    focal_x=0.5,
    focal_y=0.5,
    dominant_colors=["#282828", "#f0dc3c"],
    placeholder_hash="LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
    alt_text="a yellow square",
    has_alpha=False,
    description=None,
    tags=["local"],
    analyzer="local",
)
GOOD = {
    "focalPoint": [750, 250],  # [y, x] in 0..1000
    "altText": "A yellow square on a dark gradient",
    "description": "An abstract composition.",
    "tags": ["Abstract", "yellow", "abstract", " Square "],
}


class FakeLocalAnalyzer:
    name = "local"

    def __init__(self, result: AssetAnalysis = LOCAL, error: Exception | None = None) -> None:
        self.result = result
        self.error = error
        self.calls: list[AnalysisRequest] = []

    async def analyze(self, request: AnalysisRequest) -> AssetAnalysis:
        self.calls.append(request)
        await asyncio.sleep(0.01)
        if self.error is not None:
            raise self.error
        return self.result


def analyzer(client: GeminiClient, fallback: FakeLocalAnalyzer | None = None) -> GeminiAnalyzer:
    return GeminiAnalyzer(client.settings, fallback or FakeLocalAnalyzer(), client=client)


async def test_merges_gemini_over_local(gemini_server: GeminiServer, client: GeminiClient) -> None:
    local = FakeLocalAnalyzer()
    request = AnalysisRequest(data=PNG, mime_type="image/png", prompt="a yellow square")

    result = await analyzer(client, local).analyze(request)

    assert local.calls == [request]
    received = gemini_server.last_request
    # The newest listed Flash text model (the server lists gemini-3-flash-preview).
    assert received.path == "/v1beta/models/gemini-3-flash-preview:generateContent"
    assert received.kind == "analyze"
    assert [(i.mime_type, i.data) for i in received.images] == [("image/png", PNG)]
    # The image comes first, then the question: how Gemini is trained to read images.
    assert "inlineData" in received.parts[0]
    assert "a yellow square" in received.parts[1]["text"]
    assert received.response_mime_type == "application/json"
    schema = received.response_schema
    assert schema is not None
    assert set(schema["properties"]) == {"focalPoint", "altText", "description", "tags"}
    # Gemini's trained convention for points: [y, x] normalised to 0..1000.
    focal = schema["properties"]["focalPoint"]
    assert (focal["type"], focal["items"]["type"]) == ("ARRAY", "INTEGER")
    assert (proto_field(focal, "minItems"), proto_field(focal, "maxItems")) == (2, 2)
    assert "[y, x]" in (received.system_instruction or "")
    assert "0-1000" in (received.system_instruction or "")

    # The server's default analysis ([410, 620]), over the local measurements.
    assert result.analyzer == "gemini"
    assert (result.focal_x, result.focal_y) == (0.62, 0.41)
    assert result.alt_text == "A bright yellow square on a softly graded background"
    assert result.description is not None
    assert "(1248x832)" in result.description
    assert result.tags == ["abstract", "yellow", "square", "gradient"]
    assert (result.width, result.height, result.mime_type) == (1248, 832, "image/png")
    assert result.dominant_colors == LOCAL.dominant_colors
    assert result.placeholder_hash == LOCAL.placeholder_hash


async def test_cleans_geminis_fields(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(JsonText(GOOD))
    result = await analyzer(client).analyze(
        AnalysisRequest(data=PNG, mime_type="image/png", filename="square.png")
    )
    assert "square.png" in gemini_server.last_request.prompt
    assert (result.focal_x, result.focal_y) == (0.25, 0.75)
    assert result.tags == ["abstract", "yellow", "square"]
    assert result.analyzer == "gemini"


async def test_missing_description_and_tags_keep_local_ones(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(JsonText({"focalPoint": [1000, 0], "altText": "A square"}))
    result = await analyzer(client).analyze(AnalysisRequest(data=PNG, mime_type="image/png"))
    assert (result.focal_x, result.focal_y, result.alt_text) == (0.0, 1.0, "A square")
    assert result.tags == ["local"]
    assert result.description is None
    assert result.analyzer == "gemini"


@pytest.mark.parametrize(
    "behaviour",
    [
        RateLimit(retry_delay="0.01s"),
        ServerFailure(500),
        ClientFailure(400, "INVALID_ARGUMENT", "bad"),
        Slow(seconds=3),
        Malformed(),
        BlockPrompt("SAFETY"),
        FinishWithoutImage("SAFETY"),
        JsonText("not json at all"),
        JsonText({**GOOD, "focalPoint": [500, 1500]}),
        JsonText({**GOOD, "focalPoint": [-1, 500]}),
        JsonText({**GOOD, "focalPoint": [500, "500"]}),
        JsonText({**GOOD, "focalPoint": [500, True]}),
        JsonText({**GOOD, "focalPoint": None}),
        JsonText({**GOOD, "focalPoint": {"x": 0.5, "y": 0.5}}),
        JsonText({**GOOD, "focalPoint": [500, 500, 500]}),
        JsonText({**GOOD, "altText": ""}),
        JsonText([GOOD]),
    ],
    ids=[
        "429",
        "500",
        "400",
        "timeout",
        "malformed-body",
        "blocked",
        "finish-safety",
        "not-json",
        "x-above-1000",
        "y-below-0",
        "x-string",
        "x-bool",
        "no-focal-point",
        "fractions-object",
        "three-numbers",
        "empty-alt",
        "array",
    ],
)
async def test_any_gemini_failure_leaves_the_local_analysis(
    gemini_server: GeminiServer,
    make_client: Callable[..., GeminiClient],
    caplog: pytest.LogCaptureFixture,
    behaviour: Behaviour,
) -> None:
    gemini_server.queue(behaviour)
    client = make_client(gemini_timeout_seconds=0.3)
    with caplog.at_level(logging.WARNING, logger="banatie.providers.gemini"):
        result = await analyzer(client).analyze(AnalysisRequest(data=PNG, mime_type="image/png"))
    assert result == LOCAL
    assert result.analyzer == "local"
    assert len(gemini_server.requests_of("analyze")) <= 1  # one attempt: the agent is optional
    assert any("local analysis stands" in r.getMessage() for r in caplog.records)


async def test_retries_can_be_enabled(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(RateLimit(retry_delay="0.01s"))
    gemini = GeminiAnalyzer(client.settings, FakeLocalAnalyzer(), client=client, max_retries=1)
    result = await gemini.analyze(AnalysisRequest(data=PNG, mime_type="image/png"))
    assert result.analyzer == "gemini"
    assert [r.status for r in gemini_server.requests_of("analyze")] == [429, 200]


@pytest.mark.parametrize("mime", ["image/gif", "image/avif", "image/svg+xml"])
async def test_unsupported_types_are_analysed_locally_only(
    gemini_server: GeminiServer, client: GeminiClient, mime: str
) -> None:
    result = await analyzer(client).analyze(AnalysisRequest(data=b"GIF89a...", mime_type=mime))
    assert result == LOCAL
    assert gemini_server.requests == []


async def test_a_local_failure_propagates(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(Slow(seconds=3))
    failing = FakeLocalAnalyzer(error=OSError("cannot decode"))
    with pytest.raises(OSError, match="cannot decode"):
        await analyzer(client, failing).analyze(AnalysisRequest(data=PNG, mime_type="image/png"))


async def test_jpeg_is_sent_as_jpeg(gemini_server: GeminiServer, client: GeminiClient) -> None:
    import pyvips

    jpeg = pyvips.Image.new_from_buffer(PNG, "").write_to_buffer(".jpg")
    await analyzer(client).analyze(AnalysisRequest(data=jpeg, mime_type="image/jpeg"))
    assert [i.mime_type for i in gemini_server.last_request.images] == ["image/jpeg"]


async def test_own_shorter_timeout(gemini_server: GeminiServer, client: GeminiClient) -> None:
    gemini_server.queue(Slow(seconds=3))
    gemini = GeminiAnalyzer(
        client.settings, FakeLocalAnalyzer(), client=client, timeout_seconds=0.2
    )
    started = asyncio.get_running_loop().time()
    result = await gemini.analyze(AnalysisRequest(data=PNG, mime_type="image/png"))
    assert result == LOCAL
    assert asyncio.get_running_loop().time() - started < 1.0


@pytest.mark.parametrize(
    ("answer", "point"),
    [
        ([0, 0], (0.0, 0.0)),
        ([1000, 1000], (1.0, 1.0)),
        ([250, 900], (0.9, 0.25)),
        ([5.5, 2], (0.002, 0.0055)),
    ],
)
async def test_focal_point_is_read_as_y_x_per_mille(
    gemini_server: GeminiServer,
    client: GeminiClient,
    answer: list[float],
    point: tuple[float, float],
) -> None:
    gemini_server.queue(JsonText({**GOOD, "focalPoint": answer}))
    result = await analyzer(client).analyze(AnalysisRequest(data=PNG, mime_type="image/png"))
    assert result.analyzer == "gemini"
    assert (result.focal_x, result.focal_y) == pytest.approx(point)


async def test_an_unfinished_answer_is_not_retried(
    gemini_server: GeminiServer, client: GeminiClient
) -> None:
    gemini_server.queue(FinishWithoutImage("MAX_TOKENS"))
    result = await analyzer(client).analyze(AnalysisRequest(data=PNG, mime_type="image/png"))
    assert result == LOCAL
    assert len(gemini_server.requests_of("analyze")) == 1
