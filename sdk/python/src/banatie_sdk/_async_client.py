"""The asynchronous client: ``AsyncBanatie(api_key=…, base_url=…)``, every call awaited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar, Unpack

import httpx
from pydantic import PrivateAttr

from banatie_sdk import _calls as calls
from banatie_sdk._calls import (
    Call,
    FileInput,
    GenerationChanges,
    GenerationOptions,
    ImageChanges,
    ImageRef,
    LiveSettingsChanges,
    NamespaceFields,
    Page,
    StepOptions,
)
from banatie_sdk._config import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_DELAY,
    DEFAULT_TIMEOUT,
    make_config,
)
from banatie_sdk._http import AsyncTransport
from banatie_sdk._urls import ImageUrls, LiveUrls
from banatie_sdk.models import (
    Deleted,
    Enhancement,
    FlowData,
    Generation,
    Image,
    LiveImage,
    LiveRegeneration,
    LiveScope,
    LiveSettings,
    LiveUrl,
    Namespace,
    Usage,
)
from banatie_sdk.signing import Transform

T = TypeVar("T")
PAGE_SIZE = 100


async def _pages(
    run: Callable[[Call[Page[T]]], Awaitable[Page[T]]], make: Callable[[int], Call[Page[T]]]
) -> AsyncIterator[T]:
    offset = 0
    while True:
        page = await run(make(offset))
        for item in page.items:
            yield item
        if not page.has_more or not page.items:
            return
        offset += len(page.items)


class _Resource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport
        self._config = transport.config
        self._run = transport.run


class Generations(_Resource):
    async def create(self, prompt: str, **options: Unpack[GenerationOptions]) -> Generation:
        """Generate an image (``aspect_ratio``, ``template``, ``reference_images``, ``alias`` …)."""
        return await self._run(calls.create_generation(prompt, options))

    async def get(self, generation_id: str) -> Generation:
        return await self._run(calls.get_generation(generation_id))

    def list(
        self,
        *,
        flow_id: str | None = None,
        status: Literal["processing", "success", "failed"] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[Generation]:
        """Every generation, newest first, fetched page by page as you iterate."""
        return _pages(
            self._run, lambda offset: calls.list_generations(offset, page_size, flow_id, status)
        )

    async def delete(self, generation_id: str) -> Deleted:
        return await self._run(calls.delete_generation(generation_id))

    async def regenerate(self, generation_id: str) -> Generation:
        return await self._run(calls.regenerate_generation(generation_id))

    async def update(self, generation_id: str, **changes: Unpack[GenerationChanges]) -> Generation:
        """Change the generation: a new ``prompt``, ``aspect_ratio``, ``image_size``,
        ``template``, ``namespace`` or ``auto_enhance`` makes its image again in place (same
        id, alias and URLs; charged); ``meta`` alone changes only the record."""
        return await self._run(calls.update_generation(generation_id, changes))


class Images(_Resource, ImageUrls):
    async def upload(
        self,
        file: FileInput,
        *,
        alias: str | None = None,
        flow_id: str | None = None,
        flow_alias: str | None = None,
        meta: Mapping[str, Any] | None = None,
        filename: str | None = None,
    ) -> Image:
        """Upload a PNG, JPEG or WebP (a path, bytes or a binary file object)."""
        return await self._run(
            calls.upload_image(
                file,
                alias=alias,
                flow_id=flow_id,
                flow_alias=flow_alias,
                meta=meta,
                filename=filename,
            )
        )

    async def get(self, image: ImageRef) -> Image:
        """An image by id or ``@alias``."""
        return await self._run(calls.get_image(image))

    def list(
        self,
        *,
        flow_id: str | None = None,
        source: Literal["generated", "uploaded"] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[Image]:
        return _pages(
            self._run, lambda offset: calls.list_images(offset, page_size, flow_id, source)
        )

    async def update(self, image: ImageRef, **changes: Unpack[ImageChanges]) -> Image:
        """Change ``focal_point`` (``(x, y)`` in 0..1), ``alt_text``, ``description``, ``tags``,
        ``meta``."""
        return await self._run(calls.update_image(image, changes))

    async def set_alias(self, image: ImageRef, alias: str | None) -> Image:
        """Give ``image`` the alias (moving it from another image: ``alias_moved_from``);
        ``None`` removes it."""
        return await self._run(calls.set_image_alias(image, alias))

    async def delete(self, image: ImageRef) -> Deleted:
        return await self._run(calls.delete_image(image))

    async def download(
        self, image: ImageRef, path: str | Path | None = None, **transform: Unpack[Transform]
    ) -> bytes:
        """The image's bytes (transformed when asked), also written to ``path`` if given."""
        data = await self._transport.get_bytes(self.url(image, **transform))
        if path is not None:
            await asyncio.to_thread(Path(path).write_bytes, data)
        return data


class AsyncFlow(FlowData):
    """A flow with its helpers: ``flow.generate(prompt)`` adds a step, in which ``@last`` is
    the flow's previous image (``@first`` its first; its flow aliases are seen too)."""

    _flows: Flows = PrivateAttr()

    async def generate(self, prompt: str, **options: Unpack[StepOptions]) -> Generation:
        """A generation in this flow (options as ``generations.create``)."""
        step = GenerationOptions(**options, flow_id=self.id)
        return await self._flows._run(calls.create_generation(prompt, step))

    async def upload(
        self,
        file: FileInput,
        *,
        alias: str | None = None,
        flow_alias: str | None = None,
        meta: Mapping[str, Any] | None = None,
        filename: str | None = None,
    ) -> Image:
        """Upload an image into this flow (it becomes the flow's ``@upload``)."""
        call = calls.upload_image(
            file, alias=alias, flow_id=self.id, flow_alias=flow_alias, meta=meta, filename=filename
        )
        return await self._flows._run(call)

    def generations(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[Generation]:
        """The flow's generations, the latest first."""
        make = partial(calls.list_flow_generations, self.id, limit=page_size)
        return _pages(self._flows._run, lambda offset: make(offset))

    def images(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[Image]:
        """The flow's images (generated and uploaded), the latest first."""
        make = partial(calls.list_flow_images, self.id, limit=page_size)
        return _pages(self._flows._run, lambda offset: make(offset))

    async def set_aliases(self, aliases: Mapping[str, ImageRef | None]) -> AsyncFlow:
        """Merge flow aliases (``{"@hero": image}``; ``None`` removes one); the flow, updated."""
        return self._flows._bind(await self._flows._run(calls.set_flow_aliases(self.id, aliases)))

    async def regenerate(self) -> Generation:
        """The flow's last step again, into a new image (its aliases move to it); charged."""
        return await self._flows._run(calls.regenerate_flow(self.id))

    async def refresh(self) -> AsyncFlow:
        return await self._flows.get(self.id)

    async def delete(self) -> Deleted:
        """Delete the flow, its generations and its images but those holding a project alias."""
        return await self._flows.delete(self.id)


class Flows(_Resource):
    async def create(
        self,
        *,
        aliases: Mapping[str, ImageRef] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> AsyncFlow:
        """A new flow: ``flow.generate(prompt)`` chains steps in it."""
        return self._bind(await self._run(calls.create_flow(aliases, meta)))

    async def get(self, flow_id: str) -> AsyncFlow:
        return self._bind(await self._run(calls.get_flow(flow_id)))

    async def list(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[AsyncFlow]:
        """The project's flows, the most recently changed first."""
        async for data in _pages(self._run, lambda offset: calls.list_flows(offset, page_size)):
            yield self._bind(data)

    async def delete(self, flow_id: str) -> Deleted:
        return await self._run(calls.delete_flow(flow_id))

    def _bind(self, data: FlowData) -> AsyncFlow:
        flow = AsyncFlow.model_validate(data.model_dump())
        flow._flows = self
        return flow


class Namespaces(_Resource):
    """House styles: ``generations.create(…, namespace=slug)`` inherits one."""

    async def create(self, slug: str, **fields: Unpack[NamespaceFields]) -> Namespace:
        return await self._run(calls.create_namespace(slug, fields))

    async def get(self, slug: str) -> Namespace:
        return await self._run(calls.get_namespace(slug))

    def list(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[Namespace]:
        return _pages(self._run, lambda offset: calls.list_namespaces(offset, page_size))

    async def update(self, slug: str, **fields: Unpack[NamespaceFields]) -> Namespace:
        """Change the given fields (``None`` clears one)."""
        return await self._run(calls.update_namespace(slug, fields))

    async def delete(self, slug: str) -> Deleted:
        """Delete it; its images and generations are kept, without a namespace."""
        return await self._run(calls.delete_namespace(slug))


class LiveScopes(_Resource):
    async def create(
        self,
        slug: str,
        *,
        allow_new_generations: bool | None = None,
        new_generations_limit: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> LiveScope:
        return await self._run(
            calls.create_scope(slug, allow_new_generations, new_generations_limit, meta)
        )

    def list(self, *, page_size: int = PAGE_SIZE) -> AsyncIterator[LiveScope]:
        return _pages(self._run, lambda offset: calls.list_scopes(offset, page_size))

    async def get(self, slug: str) -> LiveScope:
        return await self._run(calls.get_scope(slug))

    async def update(
        self,
        slug: str,
        *,
        allow_new_generations: bool | None = None,
        new_generations_limit: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> LiveScope:
        return await self._run(
            calls.update_scope(slug, allow_new_generations, new_generations_limit, meta)
        )

    async def delete(self, slug: str) -> Deleted:
        return await self._run(calls.delete_scope(slug))

    def images(
        self,
        slug: str,
        *,
        status: Literal["ready", "pending", "failed"] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[LiveImage]:
        return _pages(
            self._run, lambda offset: calls.list_scope_images(slug, offset, page_size, status)
        )

    async def delete_image(self, slug: str, image_id: str) -> Deleted:
        return await self._run(calls.delete_scope_image(slug, image_id))

    async def regenerate(self, slug: str, *, image_id: str | None = None) -> LiveRegeneration:
        """New images behind the same URLs: one (``image_id``) or all of the scope's."""
        return await self._run(calls.regenerate_scope(slug, image_id))


class Live(_Resource, LiveUrls):
    def __init__(self, transport: AsyncTransport) -> None:
        super().__init__(transport)
        self.scopes = LiveScopes(transport)

    async def settings(self) -> LiveSettings:
        return await self._run(calls.get_live_settings())

    async def update_settings(self, **changes: Unpack[LiveSettingsChanges]) -> LiveSettings:
        return await self._run(calls.update_live_settings(changes))

    async def create_url(
        self,
        scope: str,
        prompt: str,
        *,
        aspect_ratio: str | None = None,
        transform: str | None = None,
        expires_in_seconds: int | None = None,
        sign: bool | None = None,
    ) -> LiveUrl:
        """Ask the server to build a live URL (signed with the project's secret if it has one)."""
        return await self._run(
            calls.create_live_url(scope, prompt, aspect_ratio, transform, expires_in_seconds, sign)
        )


class AsyncBanatie:
    """Asynchronous client (use ``async with``). Arguments left out come from ``BANATIE_API_KEY``,
    ``BANATIE_BASE_URL``, ``BANATIE_CDN_BASE_URL``, ``BANATIE_ORGANIZATION``,
    ``BANATIE_PROJECT``, ``BANATIE_DELIVERY_SIGNING_KEY`` and ``BANATIE_LIVE_SIGNING_SECRET``."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        cdn_base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        signing_key: str | None = None,
        live_signing_secret: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = make_config(
            api_key=api_key,
            base_url=base_url,
            cdn_base_url=cdn_base_url,
            organization=organization,
            project=project,
            signing_key=signing_key,
            live_signing_secret=live_signing_secret,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_delay=max_retry_delay,
        )
        self._transport = AsyncTransport(self.config, http_client)
        self.generations = Generations(self._transport)
        self.images = Images(self._transport)
        self.live = Live(self._transport)
        self.flows = Flows(self._transport)
        self.namespaces = Namespaces(self._transport)

    async def enhance(
        self, prompt: str, *, template: str | None = None, aspect_ratio: str | None = None
    ) -> Enhancement:
        """The prompt as ``auto_enhance`` would send it to the image model (never charged)."""
        return await self._transport.run(calls.enhance(prompt, template, aspect_ratio))

    async def usage(self) -> Usage:
        """Plan, generations used and remaining this month, storage."""
        return await self._transport.run(calls.get_usage())

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> AsyncBanatie:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
