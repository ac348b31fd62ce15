"""The OpenAPI document and the pages that show it: `/docs` (Swagger UI), `/redoc`, and `/`.

The pages work offline: Swagger UI's and ReDoc's assets are served from the `fastapi-offline`
package at `/docs/static`, and nothing on them asks another host for anything (no CDN, no
Google fonts, no validator badge).

The document says what the API does, not what FastAPI assumes:

* operation ids are the handlers' names in camelCase (`createGeneration`), one per method;
* the `X-API-Key` and `Authorization: Bearer` schemes are declared by the key dependency
  (`banatie.deps`), so Swagger UI's "Authorize" sends the key on the routes that need it;
* request validation answers 400 `VALIDATION_ERROR` (`banatie.errors`), never FastAPI's 422:
  those are dropped; every operation documents 503 (a dependency is down) and every one that
  takes a body 413 `PAYLOAD_TOO_LARGE` (`banatie.edge.BodyLimit`), in the error envelope;
* every authenticated POST takes the `Idempotency-Key` header (`banatie.idempotency`, a plain
  ASGI middleware FastAPI cannot see): the parameter, its 409 and 422 answers and the
  `Idempotent-Replayed` header of a replayed answer are added here.
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from banatie.idempotency.middleware import PREFIXES as IDEMPOTENT_PREFIXES
from banatie.schemas import ErrorEnvelope, error_response

__all__ = ["install_docs", "operation_id"]

STATIC_URL: Final = "/docs/static"
_FASTAPI_422: Final = "#/components/schemas/HTTPValidationError"
_UNUSED_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")
IDEMPOTENCY_KEY: Final = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any 1-255 printable ASCII characters, unique per operation you mean (e.g. "
    "an order id). A retry with the same key and the same request gets the first answer again "
    "(`Idempotent-Replayed: true`): nothing is generated or charged twice. Kept for a day, per "
    "API key.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}
_KEY_IN_USE: Final = "IDEMPOTENCY_KEY_IN_USE: a request with this Idempotency-Key still runs"
_KEY_REUSED: Final = "IDEMPOTENCY_KEY_REUSED: this Idempotency-Key was used for another request"
_REPLAYED: Final = {
    "description": "`true` on an answer given again for a repeated Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}


def operation_id(route: APIRoute) -> str:
    """`create_generation` -> `createGeneration`: stable ids for SDK generators."""
    head, *rest = route.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _finish(doc: dict[str, Any]) -> dict[str, Any]:
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorEnvelope", ErrorEnvelope.model_json_schema(by_alias=True))
    for path, item in doc.get("paths", {}).items():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
            if fastapi_422.get("schema", {}).get("$ref") == _FASTAPI_422:
                del responses["422"]
            if not path.startswith(("/api/", "/cdn/")):
                continue
            responses.setdefault("503", error_response(503))
            if "requestBody" in operation:
                responses.setdefault("413", error_response(413))
    for path, item in doc.get("paths", {}).items():
        post = item.get("post")
        if post is not None and post.get("security") and path.startswith(IDEMPOTENT_PREFIXES):
            _idempotent(post)
    if _FASTAPI_422 not in json.dumps(doc):
        for name in _UNUSED_SCHEMAS:
            schemas.pop(name, None)
    return doc


def _idempotent(operation: dict[str, Any]) -> None:
    """Document the Idempotency-Key header on a POST the idempotency middleware honours."""
    operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
    responses = operation["responses"]
    for status, meaning in (("409", _KEY_IN_USE), ("422", _KEY_REUSED)):
        if status in responses:
            responses[status]["description"] += f"; {meaning}"
        else:
            responses[status] = error_response(int(status), meaning)
    for status, response in responses.items():
        if status.startswith("2"):
            response.setdefault("headers", {})["Idempotent-Replayed"] = dict(_REPLAYED)


def _landing(title: str, version: str) -> str:
    name = html.escape(title)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em}}
code{{background:#f3f3f3;padding:0 .2em}}</style></head>
<body><h1>{name} <small>{html.escape(version)}</small></h1>
<p>Prompt in, production-ready image out. This server speaks the Banatie v1 API.</p>
<ul>
<li><a href="/docs">API reference (Swagger UI)</a>: try every route; "Authorize" takes an
<code>X-API-Key</code></li>
<li><a href="/redoc">API reference (ReDoc)</a></li>
<li><a href="/openapi.json">OpenAPI document</a></li>
<li><a href="/health">Health</a> and <a href="/api/info">server info</a></li>
</ul></body></html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve `/openapi.json`, `/docs`, `/redoc` and `/` (create the app with docs_url=None,
    redoc_url=None and generate_unique_id_function=operation_id)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _finish(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    static = resources.files("fastapi_offline") / "static"
    app.mount(STATIC_URL, StaticFiles(directory=str(static)), name="docs-static")

    # The pages never change while the process runs: render them once.
    pages = {
        "/docs": get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/favicon.png",
            # No validator badge: it would send the document to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        ).body,
        "/redoc": get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        ).body,
        "/": _landing(app.title, app.version).encode(),
    }
    for path, body in pages.items():
        app.add_api_route(path, _page(bytes(body)), methods=["GET"], include_in_schema=False)


def _page(body: bytes) -> Callable[[], Awaitable[HTMLResponse]]:
    async def page() -> HTMLResponse:
        return HTMLResponse(body)

    return page
