"""create_app(settings): wiring only. Adapters are chosen in `runtime.build_runtime`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from banatie import __version__, system
from banatie.accounts.router import router as keys_router
from banatie.console import app as console
from banatie.delivery.fastpath import DeliveryFastPath
from banatie.delivery.router import router as delivery_router
from banatie.edge import ApiCors, BodyLimit, ResponseHeaders, UrlGuard
from banatie.enhance.router import router as enhance_router
from banatie.errors import install_error_handlers
from banatie.flows.router import router as flows_router
from banatie.generation.router import router as generations_router
from banatie.idempotency.middleware import IdempotentPosts
from banatie.images.router import router as images_router
from banatie.jobs import runner as jobs
from banatie.jobs.router import router as batches_router
from banatie.live.fastpath import LiveHitFastPath
from banatie.live.http import cdn_router as live_cdn_router
from banatie.live.router import router as live_router
from banatie.mcp.mount import MCP_PATH, McpOnFirstUse
from banatie.namespaces.router import router as namespaces_router
from banatie.observability import metrics
from banatie.observability.middleware import RequestObservability
from banatie.observability.router import router as metrics_router
from banatie.openai_compat.router import EDITS_PATH
from banatie.openai_compat.router import router as openai_router
from banatie.openapi import install_docs, operation_id
from banatie.quota.router import router as quota_router
from banatie.runtime import Runtime, build_runtime
from banatie.settings import Settings
from banatie.webhooks.router import router as webhooks_router


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or Settings()
    runtime = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.delivery.outbox.start()  # sends CDN purges; stopped by runtime.close()
        runtime.webhooks.start()  # sends webhooks from their outbox; stopped by runtime.close()
        if runtime.recovery is not None:  # this process as a worker (banatie.recovery)
            await runtime.recovery.start()
        runtime.providers.start()  # resolves the Gemini models in the background
        memory = asyncio.create_task(metrics.sample_memory_forever(), name="banatie-rss")
        if settings.jobs_in_serve or settings.resolved_job_queue == "memory":
            await jobs.start(runtime)  # async and batch generations (banatie.jobs)
        async with mcp.running():
            yield
        memory.cancel()
        await runtime.close()
        metrics.process_stopped()

    app = FastAPI(
        title="Banatie",
        version=__version__,
        description="Prompt in, production-ready image out (Banatie v1 API).",
        lifespan=lifespan,
        docs_url=None,  # served offline by install_docs, as is /redoc
        redoc_url=None,
        generate_unique_id_function=operation_id,
        # Banatie makes its own request spans (banatie.observability.tracing); FastAPI's native
        # OpenTelemetry would add a second one whenever a global provider is set, and checks
        # the global providers on every request (~10 µs of a 150 µs cached hit).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    # Streamable HTTP at /mcp (docs/mcp.md); the MCP SDK loads with the first call.
    mcp = McpOnFirstUse(runtime)
    app.router.add_route(
        MCP_PATH,
        mcp,  # type: ignore[arg-type]  # an ASGI app: Starlette routes to it as it is
        methods=["GET", "POST", "DELETE"],
        include_in_schema=False,
    )
    # Innermost: a POST with an Idempotency-Key runs once (banatie.idempotency).
    app.add_middleware(IdempotentPosts, runtime=runtime)
    app.add_middleware(LiveHitFastPath, runtime=runtime)  # warm live URL hits, plain ASGI
    app.add_middleware(DeliveryFastPath, runtime=runtime)  # /cdn/…/img/…, plain ASGI
    # The edge (outermost last): CORS, body limits before parsing and auth, NUL-free URLs,
    # headers on every response (the fast paths' too).
    app.add_middleware(ApiCors, origins=settings.cors_origin_list)
    upload_path = images_router.prefix + "/upload"
    app.add_middleware(
        BodyLimit,
        default=settings.max_json_body_bytes,
        larger={
            upload_path: settings.max_upload_request_bytes,
            # Several images (and a mask) in one multipart body.
            EDITS_PATH: settings.max_upload_request_bytes * (settings.max_reference_images + 1),
            MCP_PATH: settings.max_mcp_request_bytes,
            # The playground's Generate: a prompt and one reference image.
            console.GENERATE_PATH: settings.max_upload_request_bytes,
        },
    )
    app.add_middleware(UrlGuard)
    app.add_middleware(ResponseHeaders)
    # Outermost: the request id, the access line and the metrics of every answer above.
    app.add_middleware(
        RequestObservability,
        fast_path_routes=[*delivery_router.routes, *live_cdn_router.routes],
        tracing=runtime.tracing,
    )
    install_error_handlers(app)
    for router in (
        system.router,
        keys_router,
        batches_router,  # before the generations' routes: /generations/batch
        generations_router,
        flows_router,
        enhance_router,
        images_router,
        namespaces_router,
        quota_router,
        delivery_router,
        live_router,
        live_cdn_router,
        openai_router,
        webhooks_router,
    ):
        app.include_router(router)
    console.install(app)
    if settings.metrics_enabled:
        app.include_router(metrics_router)
    install_docs(app)
    return app
