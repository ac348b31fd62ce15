"""`/api/v1/namespaces` and what generations, uploads and live URLs inherit from a namespace,
on SQLite and PostgreSQL with the embedded providers."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from banatie.delivery.models import CdnPurge
from tests.conftest import Keys
from tests.support.images import solid_png

NS = "/api/v1/namespaces"
STYLE = "flat vector, pastel palette, thick outlines"


async def upload(
    client: httpx.AsyncClient, keys: Keys, alias: str, colour: tuple[int, int, int], **form: str
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("swatch.png", solid_png(64, 64, colour), "image/png")},
        data={"alias": alias, **form},
    )
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()["data"]["image"]
    return image


async def create(client: httpx.AsyncClient, keys: Keys, **body: object) -> httpx.Response:
    return await client.post(NS, headers=keys.headers(), json=body)


async def generate(client: httpx.AsyncClient, keys: Keys, **body: object) -> httpx.Response:
    return await client.post("/api/v1/generations", headers=keys.headers(), json=body)


async def test_create_read_list_update_and_refusals(client: httpx.AsyncClient, keys: Keys) -> None:
    swatch = await upload(client, keys, "@swatch", (240, 120, 90))
    made = await create(
        client,
        keys,
        slug="Brand",
        name="Brand book",
        stylePrompt=STYLE,
        systemPrompt="Never show people",
        styleImages=["swatch", swatch["id"]],
        negativePrompt="text, watermark",
        template="sticker",
        aspectRatio="16:9",
        meta={"owner": "design"},
    )
    assert made.status_code == 201, made.text
    data = made.json()["data"]
    assert data["slug"] == "brand"  # slugs are case-insensitive
    assert data["styleImages"] == ["@swatch", swatch["id"]]
    assert (data["template"], data["aspectRatio"]) == ("sticker", "16:9")
    assert data["name"] == "Brand book" and data["meta"] == {"owner": "design"}

    again = await create(client, keys, slug="brand")
    assert again.status_code == 409 and again.json()["error"]["code"] == "NAMESPACE_ALREADY_EXISTS"
    assert (await create(client, keys, slug="docs")).json()["data"]["name"] == "docs"

    got = await client.get(f"{NS}/BRAND", headers=keys.headers())
    assert got.status_code == 200 and got.json()["data"]["stylePrompt"] == STYLE
    listed = await client.get(NS, headers=keys.headers(), params={"limit": 1})
    assert [n["slug"] for n in listed.json()["data"]] == ["brand"]
    assert listed.json()["pagination"] == {"total": 2, "limit": 1, "offset": 0, "hasMore": True}

    changed = await client.put(
        f"{NS}/brand", headers=keys.headers(), json={"template": None, "name": "Brand"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["template"] is None
    assert changed.json()["data"]["stylePrompt"] == STYLE  # untouched fields stay

    bad: list[tuple[dict[str, object], str]] = [
        ({"slug": "no spaces"}, "not a valid namespace slug"),
        ({"slug": "x", "template": "poster"}, "template 'poster' is not supported"),
        ({"slug": "x", "aspectRatio": "7:3"}, "aspectRatio '7:3' is not supported"),
        ({"slug": "x", "styleImages": ["@nothing"]}, "image '@nothing' not found"),
        ({"slug": "x", "styleImages": ["@a", "@b", "@c", "@d"]}, "at most 3"),
        ({"slug": "x", "colour": "red"}, "colour"),
    ]
    for body, message in bad:
        response = await client.post(NS, headers=keys.headers(), json=body)
        assert response.status_code == 400, (body, response.text)
        assert message in response.json()["error"]["message"], response.text
    missing = await client.get(f"{NS}/nope", headers=keys.headers())
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NAMESPACE_NOT_FOUND"


async def test_a_generation_inherits_the_namespace_and_explicit_fields_win(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    swatch = await upload(client, keys, "@swatch", (240, 120, 90))
    await create(
        client,
        keys,
        slug="brand",
        stylePrompt=STYLE,
        systemPrompt="Never show people",
        styleImages=["@swatch"],
        template="sticker",
        aspectRatio="16:9",
    )
    response = await generate(client, keys, prompt="a cat", namespace="brand")
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["namespace"], data["template"], data["aspectRatio"]) == (
        "brand",
        "sticker",
        "16:9",
    )
    assert (data["outputImage"]["width"], data["outputImage"]["height"]) == (1344, 768)
    assert data["outputImage"]["namespace"] == "brand"
    # The style and the system prompt's rule reached the prompt the model was given.
    assert f"Style: {STYLE}" in data["prompt"]
    assert "Avoid: people" in data["prompt"]
    assert [(r["id"], r["alias"], r["role"]) for r in data["referencedImages"]] == [
        (swatch["id"], "@swatch", "style")
    ]

    explicit = await generate(
        client, keys, prompt="a cat", namespace="brand", aspectRatio="1:1", template="comic"
    )
    assert (explicit.json()["data"]["aspectRatio"], explicit.json()["data"]["template"]) == (
        "1:1",
        "comic",
    )

    # Explicit references come first; with the style image they may not pass the limit.
    for alias in ("@a", "@b", "@c"):
        await upload(client, keys, alias, (10, 200, 30))
    three = await generate(
        client, keys, prompt="a cat", namespace="brand", referenceImages=["@a", "@b"]
    )
    assert [r["role"] for r in three.json()["data"]["referencedImages"]] == [
        "reference",
        "reference",
        "style",
    ]
    four = await generate(
        client, keys, prompt="a cat with @c", namespace="brand", referenceImages=["@a", "@b"]
    )
    assert four.status_code == 400
    message = four.json()["error"]["message"]
    assert "3 reference images plus the 1 style images of namespace 'brand' make 4" in message
    # A style image the request names itself is passed once, as its reference.
    own = await generate(
        client, keys, prompt="a cat", namespace="brand", referenceImages=["@swatch"]
    )
    assert [r["role"] for r in own.json()["data"]["referencedImages"]] == ["reference"]

    unknown = await generate(client, keys, prompt="a cat", namespace="nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NAMESPACE_NOT_FOUND"

    # A style image deleted since is named, not skipped.
    await client.delete("/api/v1/images/@swatch", headers=keys.headers())
    gone = await generate(client, keys, prompt="a cat", namespace="brand")
    assert gone.status_code == 400
    assert "style image @swatch of namespace 'brand' no longer exists" in gone.text


async def test_two_namespaces_look_different(client: httpx.AsyncClient, keys: Keys) -> None:
    await create(client, keys, slug="night", stylePrompt="moody dark neon cyberpunk")
    await create(client, keys, slug="pastel", stylePrompt=STYLE)
    hashes = set()
    colours = {}
    for slug in ("night", "pastel"):
        data = (await generate(client, keys, prompt="a fox", namespace=slug)).json()["data"]
        hashes.add(data["outputImage"]["fileHash"])
        colours[slug] = data["outputImage"]["dominantColors"]
    assert len(hashes) == 2 and colours["night"] != colours["pastel"]


async def test_lists_filter_by_namespace_and_uploads_join_one(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    await create(client, keys, slug="brand", stylePrompt=STYLE)
    made = (await generate(client, keys, prompt="a cat", namespace="brand")).json()["data"]
    await generate(client, keys, prompt="a dog")
    logo = await upload(client, keys, "@logo", (0, 0, 0), namespace="Brand")
    assert logo["namespace"] == "brand"
    bad = await client.post(
        "/api/v1/images/upload",
        headers=keys.headers(),
        files={"file": ("x.png", solid_png(8, 8, (1, 2, 3)), "image/png")},
        data={"namespace": "nope"},
    )
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "NAMESPACE_NOT_FOUND"

    images = await client.get(
        "/api/v1/images", headers=keys.headers(), params={"namespace": "brand"}
    )
    assert {i["id"] for i in images.json()["data"]} == {made["outputImage"]["id"], logo["id"]}
    # The filter is the slug however it is spelled: any case, with or without `@`.
    generations = await client.get(
        "/api/v1/generations", headers=keys.headers(), params={"namespace": " @Brand "}
    )
    assert [g["id"] for g in generations.json()["data"]] == [made["id"]]
    assert generations.json()["pagination"]["total"] == 1
    everything = await client.get(
        "/api/v1/generations", headers=keys.headers(), params={"namespace": " "}
    )
    assert everything.json()["pagination"]["total"] == 2


async def test_delete_keeps_images_and_generations_without_the_namespace(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    await create(client, keys, slug="brand", stylePrompt=STYLE)
    made = (await generate(client, keys, prompt="a cat", namespace="brand")).json()["data"]
    deleted = await client.delete(f"{NS}/brand", headers=keys.headers())
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["data"] == {"slug": "brand", "deleted": True, "imagesKept": 1}
    assert (await client.get(f"{NS}/brand", headers=keys.headers())).status_code == 404

    image = await client.get(f"/api/v1/images/{made['outputImage']['id']}", headers=keys.headers())
    assert image.status_code == 200 and image.json()["data"]["namespace"] is None
    generation = await client.get(f"/api/v1/generations/{made['id']}", headers=keys.headers())
    assert generation.status_code == 200 and generation.json()["data"]["namespace"] is None
    # A namespace made again under the slug starts empty.
    await create(client, keys, slug="brand")
    listed = await client.get(
        "/api/v1/images", headers=keys.headers(), params={"namespace": "brand"}
    )
    assert listed.json()["data"] == []


async def test_live_urls_inherit_and_a_new_style_makes_a_new_image(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    await create(client, keys, slug="brand", stylePrompt=STYLE, aspectRatio="16:9")
    url = "/cdn/acme/site/live/blog?prompt=a%20red%20fox&namespace=brand"
    first = await client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache-status"] == "MISS"
    generation = await client.get(
        f"/api/v1/generations/{first.headers['x-generation-id']}", headers=keys.headers()
    )
    data = generation.json()["data"]
    assert (data["namespace"], data["aspectRatio"]) == ("brand", "16:9")
    assert f"Style: {STYLE}" in data["prompt"]
    assert (await client.get(url)).headers["x-cache-status"] == "HIT"

    # A new name is no new style: still a hit.
    await client.put(f"{NS}/brand", headers=keys.headers(), json={"name": "Brand v1"})
    assert (await client.get(url)).headers["x-cache-status"] == "HIT"

    await client.put(
        f"{NS}/brand", headers=keys.headers(), json={"stylePrompt": "moody dark neon cyberpunk"}
    )
    second = await client.get(url)
    assert second.status_code == 200 and second.headers["x-cache-status"] == "MISS"
    assert second.headers["x-image-id"] != first.headers["x-image-id"]
    assert second.content != first.content
    old = await client.get(f"/api/v1/images/{first.headers['x-image-id']}", headers=keys.headers())
    assert old.status_code == 200  # the old image keeps its id
    async with app.state.runtime.sessionmaker() as session:
        purges = (await session.execute(select(CdnPurge))).scalars().all()
    restyled = [p.payload["imageId"] for p in purges if p.reason == "namespace restyled"]
    assert restyled == [first.headers["x-image-id"]]  # CDN copies of the live URL go too

    await client.delete(f"{NS}/brand", headers=keys.headers())
    gone = await client.get(url)
    assert gone.status_code == 404, gone.text
