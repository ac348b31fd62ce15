"""Assertions shared by the Gemini integration tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.conftest import Keys


async def generate(client: httpx.AsyncClient, keys: Keys, **body: object) -> httpx.Response:
    return await client.post("/api/v1/generations", headers=keys.headers(), json=body)


async def upload(
    client: httpx.AsyncClient, keys: Keys, data: bytes, alias: str, mime: str = "image/png"
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": (f"{alias.lstrip('@')}.bin", data, mime)},
        data={"alias": alias},
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()["data"]["image"]
    return image


async def usage_used(client: httpx.AsyncClient, keys: Keys) -> int:
    response = await client.get("/api/v1/usage", headers=keys.headers())
    assert response.status_code == 200, response.text
    used: int = response.json()["data"]["used"]
    return used


async def generations(client: httpx.AsyncClient, keys: Keys) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/generations", headers=keys.headers())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


async def image_total(client: httpx.AsyncClient, keys: Keys) -> int:
    response = await client.get("/api/v1/images", headers=keys.headers())
    assert response.status_code == 200, response.text
    total: int = response.json()["pagination"]["total"]
    return total


def blob_files(data_dir: Path) -> list[Path]:
    """Every file under the local blob store (none may be left by a failed generation)."""
    root = data_dir / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys of objects, first-element shape of arrays, leaf types
    (int and float are both "number"; null, [] and {} match anything)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_same_shape(gemini: Any, embedded: Any, path: str = "$") -> None:
    a, b = shape(gemini), shape(embedded)
    _compare(a, b, path)


def _compare(a: Any, b: Any, path: str) -> None:
    if a is None or b is None:
        return
    if isinstance(a, dict) or isinstance(b, dict):
        assert isinstance(a, dict) and isinstance(b, dict), f"{path}: {a!r} vs {b!r}"
        if not a or not b:  # an open map (tokenUsage, meta) that one side leaves empty
            return
        assert a.keys() == b.keys(), (
            f"{path}: keys differ: only gemini {sorted(a.keys() - b.keys())}, "
            f"only embedded {sorted(b.keys() - a.keys())}"
        )
        for key in a:
            _compare(a[key], b[key], f"{path}.{key}")
        return
    if isinstance(a, list) or isinstance(b, list):
        assert isinstance(a, list) and isinstance(b, list), f"{path}: {a!r} vs {b!r}"
        if a and b:
            _compare(a[0], b[0], f"{path}[0]")
        return
    assert a == b, f"{path}: {a} vs {b}"
