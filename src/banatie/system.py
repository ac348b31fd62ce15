"""`/health` and `/api/info`: what is running and whether its parts answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from banatie import __version__
from banatie.deps import RuntimeDep
from banatie.errors import RETRY_AFTER_OUTAGE
from banatie.mcp.mount import MCP_PATH
from banatie.providers.errors import ProviderError
from banatie.providers.ports import TEMPLATES
from banatie.runtime import Runtime

router = APIRouter(tags=["ops"])


@router.get(
    "/health",
    responses={503: {"description": "the database does not answer (body as for 200)"}},
)
async def health(runtime: RuntimeDep) -> JSONResponse:
    """200 while the database answers, 503 (`status: "degraded"`) when it does not."""
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # the point of a health check is to report, not to raise
        checks["database"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "degraded", "version": __version__, "checks": checks}
    headers = {"Cache-Control": "no-store"}
    if not healthy:
        headers["Retry-After"] = RETRY_AFTER_OUTAGE
    return JSONResponse(body, status_code=200 if healthy else 503, headers=headers)


@router.get("/api/info")
async def info(runtime: RuntimeDep) -> dict[str, Any]:
    settings = runtime.settings
    capabilities = await runtime.synthesizer.capabilities()
    width_height = capabilities.sizes[capabilities.default_size]
    return {
        "success": True,
        "data": {
            "name": "banatie",
            "version": __version__,
            "apiVersion": "v1",
            "database": "postgresql" if settings.is_postgres else "sqlite",
            "storage": runtime.blobs.name,
            "providers": {
                "synthesizer": runtime.synthesizer.name,
                "enhancer": runtime.enhancer.name,
                "analyzer": runtime.analyzer.name,
            },
            # The active image model: which one, why, and what it offers (docs/gemini.md).
            "models": await _models(runtime),
            "capabilities": capabilities.describe(),
            "aspectRatios": {k: {"width": w, "height": h} for k, (w, h) in width_height.items()},
            "imageSizes": list(capabilities.image_sizes),
            "templates": list(TEMPLATES),
            "limits": {
                "maxPromptChars": settings.max_prompt_chars,
                "maxReferenceImages": settings.max_reference_images,
                "maxUploadBytes": settings.max_upload_bytes,
                "maxImagePixels": settings.max_image_pixels,
            },
            "cdnBaseUrl": settings.delivery_base_url,
            # The MCP server for AI agents (docs/mcp.md): streamable HTTP here, or stdio via
            # `banatie mcp --url <this server> --api-key <project key>`.
            "mcp": {
                "url": settings.public_base_url.rstrip("/") + MCP_PATH,
                "transports": ["streamable-http", "stdio"],
                "auth": "project API key: X-API-Key or Authorization: Bearer",
                "stdioCommand": f"banatie mcp --url {settings.public_base_url.rstrip('/')}",
            },
        },
    }


async def _models(runtime: Runtime) -> dict[str, Any]:
    """The models in use: the local synthesizer's name, or Gemini's resolved image and text
    models (with how each was chosen, or why it cannot be had)."""
    gemini = runtime.providers.gemini
    if gemini is None:
        return {"image": {"model": (await runtime.synthesizer.capabilities()).model}}
    found: dict[str, Any] = {}
    for kind, resolve in (("image", gemini.models.image), ("text", gemini.models.text)):
        try:
            found[kind] = (await resolve()).describe()
        except ProviderError as exc:
            found[kind] = {"error": {"code": exc.code, "message": exc.message}}
    return found
