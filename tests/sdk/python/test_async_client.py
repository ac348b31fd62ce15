"""The asynchronous Python SDK against the same running server: the same calls, awaited."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from banatie_sdk import AsyncBanatie, AuthenticationError, NotFoundError, RateLimitError
from tests.sdk.conftest import SIGNING_KEY, SdkServer
from tests.support.images import solid_png


def _client(server: SdkServer, **options: object) -> AsyncBanatie:
    return AsyncBanatie(
        api_key=server.key,
        base_url=server.base_url,
        organization="default",
        project="main",
        signing_key=SIGNING_KEY,
        **options,  # type: ignore[arg-type]
    )


async def test_async_resources(sdk_server: SdkServer) -> None:
    async with _client(sdk_server) as client:
        # Concurrent calls on one client.
        made = await asyncio.gather(
            *(client.generations.create(f"a tin robot number {n}", flow_id=None) for n in range(3))
        )
        assert all(g.status == "success" and g.flow_id is None for g in made)
        seen = [g.id async for g in client.generations.list(page_size=2)]
        assert {g.id for g in made} <= set(seen)

        logo = await client.images.upload(solid_png(50, 50), filename="a.png", alias="@async-logo")
        assert (await client.images.get("@async-logo")).id == logo.id
        assert logo.id in [i.id async for i in client.images.list(source="uploaded")]
        edited = await client.images.update(logo, tags=["logo", "async"])
        assert edited.tags == ["logo", "async"]
        data = await client.images.download(logo, w=25, format="png")
        assert data.startswith(b"\x89PNG")
        signed = client.images.url(logo, w=10)
        assert "sig=" in signed
        async with httpx.AsyncClient() as http:
            assert (await http.get(signed)).status_code == 200

        regenerated = await client.generations.regenerate(made[0].id)
        assert regenerated.output_image is not None
        assert (await client.generations.delete(made[1].id)).deleted
        with pytest.raises(NotFoundError):
            await client.generations.get(made[1].id)
        assert (await client.images.delete("@async-logo")).deleted

        flow = await client.flows.create()
        first = await flow.generate("a paper crane", aspect_ratio="3:2")
        second = await flow.generate("a flock of them, @last")
        assert first.output_image is not None and second.flow_id == flow.id
        assert [ref.id for ref in second.referenced_images] == [first.output_image.id]
        assert [i.id async for i in flow.images()][1] == first.output_image.id
        assert flow.id in [f.id async for f in client.flows.list()]
        assert (await flow.refresh()).generation_count == 2
        updated = await client.generations.update(second.id, meta={"kept": True})
        assert updated.meta == {"kept": True}
        assert (await flow.delete()).deleted

        style = await client.namespaces.create("async-style", style_prompt="ink sketch")
        assert (await client.namespaces.get("async-style")).style_prompt == "ink sketch"
        assert "async-style" in [ns.slug async for ns in client.namespaces.list()]
        assert (await client.namespaces.update(style.slug, name="Ink")).name == "Ink"
        assert (await client.namespaces.delete(style.slug)).deleted

        scope = await client.live.scopes.create("async-scope")
        assert scope.slug in [s.slug async for s in client.live.scopes.list()]
        assert (await client.live.scopes.delete("async-scope")).deleted
        assert (await client.usage()).used >= 4
        assert (await client.live.settings()).auto_create_scopes is True


async def test_async_errors_and_retries(sdk_server: SdkServer) -> None:
    async with AsyncBanatie(api_key="bnt_wrong", base_url=sdk_server.base_url) as bad:
        with pytest.raises(AuthenticationError):
            await bad.usage()
    async with (
        AsyncBanatie(api_key=sdk_server.throttled_key, base_url=sdk_server.base_url) as patient,
        AsyncBanatie(
            api_key=sdk_server.throttled_key, base_url=sdk_server.base_url, max_retries=0
        ) as impatient,
    ):
        await patient.enhance("a first request uses the window")
        with pytest.raises(RateLimitError) as limited:
            await impatient.enhance("refused")
        assert limited.value.retry_after is not None
        started = time.monotonic()
        assert (await patient.enhance("retried")).original_prompt == "retried"
        assert time.monotonic() - started >= 0.9
