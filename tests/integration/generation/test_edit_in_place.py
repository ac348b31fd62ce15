"""`PUT /api/v1/generations/{id}`: a new prompt, aspect ratio, template or namespace regenerates
in place (same image id and alias, new bytes, variants dropped, CDN purge queued), on SQLite and
PostgreSQL with the embedded providers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from banatie.delivery.models import CdnPurge, ImageVariant
from banatie.recovery.gc import collect_orphan_blobs
from banatie.settings import Settings
from tests.conftest import Keys


async def generate(client: httpx.AsyncClient, keys: Keys, **body: object) -> dict[str, Any]:
    response = await client.post("/api/v1/generations", headers=keys.headers(), json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def put(client: httpx.AsyncClient, keys: Keys, gen_id: str, **body: object) -> httpx.Response:
    return await client.put(f"/api/v1/generations/{gen_id}", headers=keys.headers(), json=body)


async def used(client: httpx.AsyncClient, keys: Keys) -> int:
    usage = await client.get("/api/v1/usage", headers=keys.headers())
    count: int = usage.json()["data"]["used"]
    return count


def blobs(settings: Settings) -> set[str]:
    root = Path(settings.data_dir) / "blobs"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


async def test_a_new_prompt_regenerates_in_place(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, settings: Settings
) -> None:
    made = await generate(client, keys, prompt="a red fox in a snowy forest", alias="@hero")
    image = made["outputImage"]
    by_id = image["storageUrl"].removeprefix("http://testserver")
    old_bytes = (await client.get(by_id)).content
    old_variant = await client.get(by_id + "?w=120&format=png")
    assert old_variant.status_code == 200
    before = blobs(settings)

    response = await put(client, keys, made["id"], prompt="a blue whale in the sea at night")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["id"] == made["id"] and data["source"] == "regenerate"
    assert data["originalPrompt"] == "a blue whale in the sea at night"
    assert data["prompt"].startswith("a blue whale in the sea at night")
    out = data["outputImage"]
    assert (out["id"], out["alias"], out["storageUrl"]) == (
        image["id"],
        "@hero",
        image["storageUrl"],
    )
    assert out["fileHash"] != image["fileHash"]
    assert "whale" in (out["altText"] or "").lower()

    # Every URL serves the new bytes: by id, by alias, and a variant rendered before.
    new_bytes = (await client.get(by_id)).content
    assert new_bytes != old_bytes
    assert (await client.get("/cdn/acme/site/img/@hero")).content == new_bytes
    new_variant = await client.get(by_id + "?w=120&format=png")
    assert new_variant.status_code == 200 and new_variant.content != old_variant.content
    # The old original and its variant are gone from the store, the new ones are there.
    after = blobs(settings)
    assert not (before & after)

    async with app.state.runtime.sessionmaker() as session:
        purges = (await session.execute(select(CdnPurge))).scalars().all()
        variants = (await session.execute(select(ImageVariant))).scalars().all()
    purge = next(p for p in purges if p.reason == "regenerated in place")
    assert purge.payload["imageId"] == image["id"]
    assert set(purge.payload["refs"]) == {image["id"], "@hero"}
    assert "w=120&format=png" in purge.payload["queries"]  # the variant seen before
    # Only the new render (and at most the new original's decoded pixels, a derived row).
    assert [v.spec for v in variants if v.spec] == ["w=120&format=png"]
    assert len([v for v in variants if not v.spec]) <= 1
    assert await used(client, keys) == 2  # charged like a regeneration

    # Orphan collection judges the new blobs by the image's id: they stay.
    runtime = app.state.runtime
    report = await collect_orphan_blobs(runtime.sessionmaker, runtime.blobs, min_age=timedelta(0))
    assert report.deleted == 0 and report.other == 0
    assert (await client.get(by_id)).content == new_bytes


async def test_aspect_ratio_template_and_namespace_regenerate_meta_does_not(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    made = await generate(client, keys, prompt="a lighthouse")
    wide = (await put(client, keys, made["id"], aspectRatio="16:9")).json()["data"]
    assert (wide["outputImage"]["width"], wide["outputImage"]["height"]) == (1344, 768)
    assert wide["outputImage"]["id"] == made["outputImage"]["id"]

    await client.post(
        "/api/v1/namespaces",
        headers=keys.headers(),
        json={"slug": "brand", "stylePrompt": "moody dark neon", "template": "comic"},
    )
    styled = (await put(client, keys, made["id"], namespace="brand")).json()["data"]
    assert (styled["namespace"], styled["template"]) == ("brand", "comic")
    assert "Style: moody dark neon" in styled["prompt"]
    assert styled["outputImage"]["namespace"] == "brand"
    assert styled["outputImage"]["fileHash"] != wide["outputImage"]["fileHash"]
    charged = await used(client, keys)

    tagged = await put(client, keys, made["id"], meta={"page": "home"}, aspectRatio="16:9")
    assert tagged.status_code == 200
    data = tagged.json()["data"]
    assert data["meta"] == {"page": "home"}
    assert data["outputImage"]["fileHash"] == styled["outputImage"]["fileHash"]  # not redone
    assert await used(client, keys) == charged


async def test_refusals(client: httpx.AsyncClient, keys: Keys) -> None:
    made = await generate(client, keys, prompt="a lighthouse")
    cases: list[tuple[dict[str, object], str]] = [
        ({"prompt": None}, "prompt must not be null"),
        ({"prompt": "  "}, "prompt must not be empty"),
        ({"aspectRatio": "7:3"}, "aspectRatio '7:3' is not supported"),
        ({"template": "poster"}, "template 'poster' is not supported"),
        ({"seed": 1}, "seed"),
    ]
    for body, message in cases:
        response = await put(client, keys, made["id"], **body)
        assert response.status_code == 400, (body, response.text)
        assert message in response.json()["error"]["message"]
    unknown = await put(client, keys, made["id"], namespace="nope")
    assert unknown.status_code == 404
    missing = await put(client, keys, "00000000-0000-4000-8000-000000000000", prompt="x")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "GENERATION_NOT_FOUND"
    # Nothing was redone by the refusals.
    got = await client.get(f"/api/v1/generations/{made['id']}", headers=keys.headers())
    assert got.json()["data"]["outputImage"]["fileHash"] == made["outputImage"]["fileHash"]
