"""Delivery fixtures: apps with delivery settings changed, uploads, images drawn for crops."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import cache
from typing import Any

import httpx
import numpy as np
import pytest
import pyvips
from fastapi import FastAPI

from banatie.app import create_app
from banatie.delivery.router import router as delivery_router
from banatie.errors import install_error_handlers
from banatie.observability.middleware import RequestObservability
from banatie.runtime import Runtime
from banatie.settings import Settings
from tests.conftest import Keys
from tests.support.s3_server import s3_endpoint

__all__ = ["s3_endpoint"]  # the session-wide moto server fixture, for the S3 variant test

WEBP_ACCEPT = "image/webp,image/apng,*/*;q=0.8"
AVIF_ACCEPT = "image/avif,image/webp,*/*;q=0.8"


@cache
def quadrants_png(width: int = 320, height: int = 180) -> bytes:
    """Four coloured quadrants: red top-left, green top-right, blue bottom-left, white
    bottom-right, so a crop shows which part of the image it kept."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    hw, hh = width // 2, height // 2
    array[:hh, :hw] = (255, 0, 0)
    array[:hh, hw:] = (0, 255, 0)
    array[hh:, :hw] = (0, 0, 255)
    array[hh:, hw:] = (255, 255, 255)
    image = pyvips.Image.new_from_array(array).copy(interpretation="srgb")
    return bytes(image.pngsave_buffer())


def decode(data: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(data, "")


def loader(data: bytes) -> str:
    return str(decode(data).get("vips-loader"))


def centre_rgb(data: bytes) -> tuple[int, ...]:
    image = decode(data)
    pixel = image.getpoint(image.width // 2, image.height // 2)
    return tuple(round(v) for v in pixel[:3])


async def upload(
    client: httpx.AsyncClient,
    keys: Keys,
    data: bytes | None = None,
    *,
    alias: str | None = None,
) -> dict[str, Any]:
    form = {"alias": alias} if alias else {}
    response = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("a.png", data or quadrants_png(), "image/png")},
        data=form,
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()["data"]["image"]
    return image


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


@asynccontextmanager
async def route_only(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the FastAPI delivery route alone (no fast path in front), on ``app``'s
    runtime: what the fast path must answer exactly like."""
    plain = FastAPI()
    plain.state.runtime = runtime_of(app)
    install_error_handlers(plain)
    plain.add_middleware(RequestObservability)  # errors name the request, as in the app
    plain.include_router(delivery_router)
    transport = httpx.ASGITransport(app=plain, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as route:
        yield route


AppFactory = Callable[..., Awaitable[tuple[httpx.AsyncClient, FastAPI]]]


@pytest.fixture
async def app_with(settings: Settings) -> AsyncIterator[AppFactory]:
    """Build another app on the same database and blobs with some settings changed."""
    async with AsyncExitStack() as stack:

        async def make(**changes: Any) -> tuple[httpx.AsyncClient, FastAPI]:
            changed = Settings(_env_file=None, **{**settings.model_dump(), **changes})
            application = create_app(changed)
            stack.push_async_callback(application.state.runtime.close)
            transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=transport, base_url="http://testserver")
            )
            return http, application

        yield make
