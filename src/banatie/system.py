"""`/health` and `/api/info`: what is running and whether its parts answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from banatie import __version__
from banatie.deps import RuntimeDep
from banatie.providers.ports import ASPECT_RATIO_SIZES, TEMPLATES

router = APIRouter(tags=["ops"])


@router.get("/health")
async def health(runtime: RuntimeDep) -> dict[str, Any]:
    checks: dict[str, str] = {}
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # the point of a health check is to report, not to raise
        checks["database"] = f"error: {type(exc).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return {"status": "ok" if healthy else "degraded", "version": __version__, "checks": checks}


@router.get("/api/info")
async def info(runtime: RuntimeDep) -> dict[str, Any]:
    settings = runtime.settings
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
            "aspectRatios": {
                k: {"width": w, "height": h} for k, (w, h) in ASPECT_RATIO_SIZES.items()
            },
            "templates": list(TEMPLATES),
            "limits": {
                "maxPromptChars": settings.max_prompt_chars,
                "maxReferenceImages": settings.max_reference_images,
                "maxUploadBytes": settings.max_upload_bytes,
                "maxImagePixels": settings.max_image_pixels,
            },
            "cdnBaseUrl": settings.delivery_base_url,
        },
    }
