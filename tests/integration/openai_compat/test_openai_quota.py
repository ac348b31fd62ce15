"""A used-up allowance through `/openai/v1`: the OpenAI SDK is told not to retry it."""

from __future__ import annotations

import httpx
import openai
import pytest
from fastapi import FastAPI
from openai import AsyncOpenAI

from banatie.settings import Settings
from tests.conftest import Keys


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One generation a month: the second request hits the allowance.
    return settings.model_copy(update={"free_monthly_generations": 1})


async def test_quota_is_not_retried(app: FastAPI, keys: Keys) -> None:
    sent: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        sent.append(request)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    patient = AsyncOpenAI(  # the OpenAI SDK's default: 2 retries
        api_key=keys.project,
        base_url="http://testserver/openai/v1",
        # openai 3 types this as httpx2's client; httpx's speaks the same interface.
        http_client=httpx.AsyncClient(  # type: ignore[arg-type]
            transport=transport, event_hooks={"request": [count]}
        ),
    )
    await patient.images.generate(prompt="the one of this month")
    with pytest.raises(openai.RateLimitError) as limited:
        await patient.images.generate(prompt="one too many")
    assert limited.value.code == "quota_exceeded"
    assert limited.value.type == "insufficient_quota"
    assert len(sent) == 2  # told x-should-retry: false, the SDK did not send it again
    await patient.close()
