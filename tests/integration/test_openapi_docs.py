"""The OpenAPI document is valid and says what the API does; `/docs`, `/redoc` and `/` work
with no network (every asset from this server)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.filterwarnings("error::UserWarning")  # e.g. duplicate operation ids

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


async def _document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_the_document_passes_openapi_spec_validator(client: httpx.AsyncClient) -> None:
    doc = await _document(client)
    validate(doc)  # raises on any violation, e.g. two operations sharing an operationId
    ids = [operation["operationId"] for _, _, operation in _operations(doc)]
    assert len(ids) == len(set(ids))
    assert {"createGeneration", "deliverImage", "deliverImageHead", "uploadImage"} <= set(ids)


async def test_keys_are_a_declared_security_scheme_on_the_routes_that_need_one(
    client: httpx.AsyncClient,
) -> None:
    doc = await _document(client)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["ApiKey"]["description"],
    }
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    for method, path, operation in _operations(doc):
        needs_key = path.startswith(("/api/v1/", "/api/admin/", "/openai/v1/"))
        security = operation.get("security", [])
        if needs_key:
            # Either scheme will do: two alternatives, not both at once.
            assert {"ApiKey": []} in security and {"Bearer": []} in security, (method, path)
        else:
            assert security == [], (method, path)


async def test_only_errors_the_api_returns_are_documented(client: httpx.AsyncClient) -> None:
    doc = await _document(client)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    error = {"$ref": "#/components/schemas/ErrorEnvelope"}
    openai_error = {"$ref": "#/components/schemas/OpenAIError"}
    for method, path, operation in _operations(doc):
        responses = operation["responses"]
        documented = ["503"] if path.startswith(("/api/", "/cdn/", "/openai/")) else []
        if operation.get("security"):
            documented += ["400", "401", "403", "404"]
        # /openai/v1 answers in OpenAI's error shape, everything else in Banatie's envelope.
        shape = openai_error if path.startswith("/openai/") else error
        for status in documented:
            assert responses[status]["content"]["application/json"]["schema"] == shape, (
                method,
                path,
                status,
            )
        if "requestBody" in operation:
            assert "413" in responses, (method, path)
        # 422 only where a provider refusal, an undecodable original or a reused
        # Idempotency-Key can give one.
        if "422" in responses:
            description = responses["422"]["description"]
            assert (
                "CONTENT_BLOCKED" in description
                or "IDEMPOTENCY_KEY_REUSED" in description
                or (path.startswith("/cdn/") and "TRANSFORM_FAILED" in description)
            ), (method, path)


async def test_every_post_that_honours_idempotency_keys_documents_the_header(
    client: httpx.AsyncClient,
) -> None:
    doc = await _document(client)
    posts = [(path, op) for method, path, op in _operations(doc) if method == "POST"]
    keyed = [path for path, op in posts if _idempotency_key(op) is not None]
    assert {
        "/api/v1/generations",
        "/api/v1/images/upload",
        "/api/v1/webhooks",
        "/openai/v1/images/generations",
    } <= set(keyed)
    for path, operation in posts:
        if not operation.get("security"):  # no key, nothing to keep an answer for
            assert path not in keyed
            continue
        parameter = _idempotency_key(operation)
        assert parameter is not None, path
        assert parameter["in"] == "header" and parameter["required"] is False
        assert parameter["schema"]["maxLength"] == 255
        responses = operation["responses"]
        assert "IDEMPOTENCY_KEY_IN_USE" in responses["409"]["description"], path
        assert "IDEMPOTENCY_KEY_REUSED" in responses["422"]["description"], path
        ok = [r for status, r in responses.items() if status.startswith("2")]
        assert all("Idempotent-Replayed" in r.get("headers", {}) for r in ok), path
    assert not any(_idempotency_key(op) for method, _, op in _operations(doc) if method != "POST")


def _idempotency_key(operation: dict[str, Any]) -> dict[str, Any] | None:
    for parameter in operation.get("parameters", []):
        if parameter.get("name") == "Idempotency-Key":
            found: dict[str, Any] = parameter
            return found
    return None


async def test_request_validation_is_a_400_not_the_422_fastapi_would_document(
    client: httpx.AsyncClient,
) -> None:
    bootstrap = await client.post("/api/bootstrap/initial-key", json={"organizationSlug": 5})
    assert bootstrap.status_code == 400
    assert bootstrap.json()["error"]["code"] == "VALIDATION_ERROR"


_ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/"])
async def test_pages_load_everything_from_this_server(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = [a or b for a, b in _ASSET.findall(response.text)]
    assert urls, response.text
    for url in urls:
        absolute = urljoin(f"http://testserver{page}", url)
        # No CDN, no fonts, no validator: a machine with no network shows the whole page.
        assert absolute.startswith("http://testserver/"), url
        fetched = await client.get(absolute)
        assert fetched.status_code == 200, url
        assert fetched.content, url
    assert "validator.swagger.io" not in response.text


async def test_swagger_ui_is_set_up_to_authorize_with_a_key(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    assert "/docs/static/swagger-ui-bundle.js" in page
    assert '"validatorUrl": null' in page
    bundle = await client.get("/docs/static/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert "javascript" in bundle.headers["content-type"]
    assert len(bundle.content) > 500_000  # the real Swagger UI, not a placeholder


async def test_the_root_page_links_the_docs(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    for link in ('href="/docs"', 'href="/redoc"', 'href="/openapi.json"', 'href="/health"'):
        assert link in page
