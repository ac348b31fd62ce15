"""`GET /cdn/{org}/{project}/live/{scope}`: miss then hit, the cache key, single-flight, failed
generations, refusals (scope, client IP, quota, referrer, signature) on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
import unicodedata
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI

from banatie.app import create_app
from banatie.settings import Settings
from tests.conftest import Keys
from tests.integration.live.conftest import (
    BROWSER_ACCEPT,
    ClientFactory,
    generation_count,
    live_url,
)
from tests.support.synthesizers import FailingSynthesizer


async def test_miss_then_hit_serves_identical_bytes(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    url = live_url("a red fox in a snowy forest", extra="aspectRatio=16:9")
    first = await client.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache-status"] == "MISS"
    assert first.headers["content-type"] == "image/png"
    assert first.headers["x-scope"] == "blog"
    image_id, generation_id = first.headers["x-image-id"], first.headers["x-generation-id"]
    assert image_id and generation_id
    assert first.headers["cache-control"] == "public, max-age=86400"
    assert first.headers["etag"] and first.headers["last-modified"]
    assert first.headers["content-length"] == str(len(first.content))

    second = await client.get(url)
    assert second.status_code == 200
    assert second.headers["x-cache-status"] == "HIT"
    assert second.content == first.content
    assert second.headers["x-image-id"] == image_id
    assert second.headers["x-generation-id"] == generation_id
    assert second.headers["etag"] == first.headers["etag"]

    # The same request in other clothes: whitespace, NFD, order, defaults, tracking and
    # auth-like parameters. All hits, never rate limited, never charged.
    decomposed = unicodedata.normalize("NFD", "  a   red fox\tin a snowy  forest ")
    variants = [
        live_url(decomposed, extra="aspectRatio=16:9"),
        live_url("a red fox in a snowy forest", extra="aspectRatio=16x9&template=general"),
        live_url("a red fox in a snowy forest", extra="autoEnhance=true&aspectRatio=16:9"),
        live_url("a red fox in a snowy forest", extra="aspectRatio=16:9&utm_source=x&key=k&sig="),
        live_url("a red fox in a snowy forest", "BLOG", extra="aspectRatio=16:9&fbclid=abc"),
    ]
    app.state.runtime.live.hits.clear()  # the database lookup too, not only the LRU
    for variant in variants:
        again = await client.get(variant)
        assert again.status_code == 200, (variant, again.text)
        assert again.headers["x-cache-status"] == "HIT", variant
        assert again.content == first.content

    conditional = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert conditional.status_code == 304 and conditional.headers["x-cache-status"] == "HIT"
    head = await client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))
    assert await generation_count(app) == 1

    # What the API says about it: a live generation, charged once, in the scope's images.
    usage = (await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]
    assert usage["used"] == 1
    generation = (
        await client.get(f"/api/v1/generations/{generation_id}", headers=keys.headers())
    ).json()["data"]
    assert generation["source"] == "live" and generation["aspectRatio"] == "16:9"
    assert generation["outputImage"]["id"] == image_id


async def test_parameters_that_change_the_image_are_new_generations(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    base = live_url("a lighthouse")
    assert (await client.get(base)).headers["x-cache-status"] == "MISS"
    for extra in ("aspectRatio=3:2", "template=comic", "autoEnhance=false"):
        response = await client.get(f"{base}&{extra}")
        assert response.headers["x-cache-status"] == "MISS", extra
    other_scope = await client.get(live_url("a lighthouse", scope="docs"))
    assert other_scope.headers["x-cache-status"] == "MISS"
    assert await generation_count(app) == 5


async def test_concurrent_identical_misses_share_one_generation(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    url = live_url("one hundred people asking for the same picture")
    responses = await asyncio.gather(*(client.get(url) for _ in range(100)))
    assert {r.status_code for r in responses} == {200}, {r.text for r in responses}
    assert len({r.headers["x-image-id"] for r in responses}) == 1
    assert len({r.content for r in responses}) == 1
    assert await generation_count(app) == 1
    assert app.state.runtime.live.generations_started == 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_replicas_share_one_generation(
    settings: Settings, keys: Keys, client: httpx.AsyncClient
) -> None:
    """Two apps (own caches, own flights, own limiters) on one PostgreSQL database; a
    regeneration through a third is seen by both within a second or two."""
    replicas = [create_app(settings), create_app(settings)]
    try:
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=replica, raise_app_exceptions=False),
                base_url="http://testserver",
            )
            for replica in replicas
        ]
        url = live_url("a single lighthouse shared by two servers")
        responses = await asyncio.gather(*(clients[i % 2].get(url) for i in range(40)))
        assert {r.status_code for r in responses} == {200}, {r.text for r in responses}
        assert len({r.headers["x-image-id"] for r in responses}) == 1
        assert await generation_count(replicas[0]) == 1
        started = [replica.state.runtime.live.generations_started for replica in replicas]
        assert sorted(started) == [0, 1]

        old_id = responses[0].headers["x-image-id"]
        for http in clients:  # both warm, from memory
            assert (await http.get(url)).headers["x-cache-status"] == "HIT"
        regenerated = await client.post(
            "/api/v1/live/scopes/blog/regenerate", headers=keys.headers(), json={}
        )
        assert regenerated.status_code == 200, regenerated.text
        new_id = regenerated.json()["data"]["regenerated"][0]["imageId"]
        deadline = time.monotonic() + 3
        seen: set[str] = set()
        while time.monotonic() < deadline and seen != {new_id}:
            seen = {(await http.get(url)).headers["x-image-id"] for http in clients}
            await asyncio.sleep(0.1)
        assert seen == {new_id} and new_id != old_id
        for http in clients:
            await http.aclose()
    finally:
        for replica in replicas:
            await replica.state.runtime.close()


async def test_failed_generation_is_not_cached_and_is_retried(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    runtime = app.state.runtime
    real = runtime.synthesizer

    runtime.synthesizer = FailingSynthesizer("model down", delay=0.05)
    url = live_url("a picture that fails once")
    failed = await asyncio.gather(*(client.get(url) for _ in range(5)))
    assert [r.status_code for r in failed] == [502] * 5
    assert failed[0].json()["error"]["code"] == "PROVIDER_ERROR"
    assert failed[0].headers["cache-control"] == "no-store"
    assert await generation_count(app, "failed") == 1  # the five shared one attempt
    image = await client.get(url, headers={"Accept": BROWSER_ACCEPT})
    assert image.status_code == 502 and image.headers["content-type"] == "image/svg+xml"
    assert await generation_count(app, "failed") == 2  # a new request tried again

    runtime.synthesizer = real
    ok = await client.get(url)
    assert ok.status_code == 200 and ok.headers["x-cache-status"] == "MISS"
    assert (await client.get(url)).headers["x-cache-status"] == "HIT"
    usage = (await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]
    assert usage["used"] == 1  # failures cost nothing


async def test_scope_limits(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> None:
    created = await client.post(
        "/api/v1/live/scopes",
        headers=keys.headers(),
        json={"slug": "hero", "newGenerationsLimit": 2},
    )
    assert created.status_code == 201, created.text
    assert created.json()["data"]["remainingGenerations"] == 2
    for prompt in ("one", "two"):
        assert (await client.get(live_url(prompt, "hero"))).status_code == 200
    # Concurrent distinct misses cannot overshoot the limit either.
    burst = await asyncio.gather(*(client.get(live_url(f"more {i}", "hero")) for i in range(4)))
    assert {r.status_code for r in burst} == {429}
    refused = burst[0]
    assert refused.json()["error"]["code"] == "SCOPE_LIMIT_EXCEEDED"
    assert refused.headers["cache-control"] == "no-store"
    svg = await client.get(live_url("three", "hero"), headers={"Accept": BROWSER_ACCEPT})
    assert svg.status_code == 429 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.headers["cache-control"] == "no-store"
    tree = ElementTree.fromstring(svg.content)
    assert tree.tag.endswith("svg") and "full" in svg.text
    # Hits are still served.
    assert (await client.get(live_url("one", "hero"))).headers["x-cache-status"] == "HIT"

    scope = (await client.get("/api/v1/live/scopes/hero", headers=keys.headers())).json()["data"]
    assert scope["currentGenerations"] == 2 and scope["remainingGenerations"] == 0

    await client.put(
        "/api/v1/live/scopes/hero",
        headers=keys.headers(),
        json={"newGenerationsLimit": 10, "allowNewGenerations": False},
    )
    disabled = await client.get(live_url("three", "hero"))
    assert disabled.status_code == 403
    assert disabled.json()["error"]["code"] == "SCOPE_GENERATIONS_DISABLED"
    assert (await client.get(live_url("two", "hero"))).status_code == 200
    await client.put(
        "/api/v1/live/scopes/hero", headers=keys.headers(), json={"allowNewGenerations": True}
    )
    assert (await client.get(live_url("three", "hero"))).status_code == 200
    assert await generation_count(app) == 3


async def test_client_ip_limit(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, client_at: ClientFactory
) -> None:
    settings = app.state.runtime.settings
    settings.live_ip_rate_limit = "3/hour"
    async with client_at("203.0.113.7") as visitor:
        for i in range(3):
            assert (await visitor.get(live_url(f"visitor {i}"))).status_code == 200
        refused = await visitor.get(live_url("visitor 3"))
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["code"] == "RATE_LIMIT_EXCEEDED" and error["details"]["limit"] == "client_ip"
        assert int(refused.headers["retry-after"]) > 0
        assert refused.headers["cache-control"] == "no-store"
        # Nor can it create scopes any more (anonymous requests make scopes only on budget).
        new_scope = await visitor.get(live_url("visitor 0", scope="brand-new"))
        assert new_scope.status_code == 429
        missing = await client.get("/api/v1/live/scopes/brand-new", headers=keys.headers())
        assert missing.status_code == 404
        # Hits are never rate limited.
        for _ in range(5):
            hit = await visitor.get(live_url("visitor 0"))
            assert hit.status_code == 200 and hit.headers["x-cache-status"] == "HIT"
        # X-Forwarded-For from an untrusted peer is ignored: still the same client.
        spoofed = await visitor.get(
            live_url("visitor 4"), headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert spoofed.status_code == 429
    async with client_at("203.0.113.8") as other:
        assert (await other.get(live_url("other visitor"))).status_code == 200
    # Behind trusted proxies: tests/e2e/test_client_ip.py (the server reads X-Forwarded-For).


async def test_quota_refusal(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> None:
    app.state.runtime.settings.free_monthly_generations = 2
    for prompt in ("first", "second"):
        assert (await client.get(live_url(prompt))).status_code == 200
    refused = await client.get(live_url("third"), headers={"Accept": BROWSER_ACCEPT})
    assert refused.status_code == 429
    assert refused.headers["x-error-code"] == "QUOTA_EXCEEDED"
    assert refused.headers["content-type"] == "image/svg+xml"
    assert refused.headers["cache-control"] == "no-store"
    assert int(refused.headers["retry-after"]) > 0
    assert (await client.get(live_url("first"))).headers["x-cache-status"] == "HIT"
    # The refused request left no claim behind: raising the allowance lets it through.
    app.state.runtime.settings.free_monthly_generations = 3
    assert (await client.get(live_url("third"))).status_code == 200


async def test_referrer_allow_list(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> None:
    updated = await client.put(
        "/api/v1/live/settings",
        headers=keys.headers(),
        json={"allowedReferrers": ["https://Example.com/", "shop.test"]},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["allowedReferrers"] == ["example.com", "shop.test"]
    allowed = {"Referer": "https://www.example.com/blog/post"}
    assert (await client.get(live_url("from example"), headers=allowed)).status_code == 200
    for referer in ({"Referer": "https://evil.test/"}, {"Referer": "https://notexample.com/"}, {}):
        refused = await client.get(live_url("from elsewhere"), headers=referer)
        assert refused.status_code == 403, referer
        assert refused.json()["error"]["code"] == "REFERRER_NOT_ALLOWED"
    # A cached image is served wherever it is embedded.
    hit = await client.get(live_url("from example"), headers={"Referer": "https://evil.test/"})
    assert hit.status_code == 200 and hit.headers["x-cache-status"] == "HIT"


async def test_signed_live_urls(client: httpx.AsyncClient, keys: Keys, app: FastAPI) -> None:
    app.state.runtime.settings.live_ip_rate_limit = "1/hour"
    settings = await client.put(
        "/api/v1/live/settings", headers=keys.headers(), json={"requireSignature": True}
    )
    body = settings.json()["data"]
    assert body["requireSignature"] and body["hasSigningSecret"] and body["signingSecret"]
    again = (await client.get("/api/v1/live/settings", headers=keys.headers())).json()["data"]
    assert again["signingSecret"] is None  # shown once

    unsigned = await client.get(live_url("a signed cat"))
    assert unsigned.status_code == 403
    assert unsigned.json()["error"]["code"] == "SIGNATURE_REQUIRED"

    async def build(prompt: str, **extra: object) -> str:
        made = await client.post(
            "/api/v1/live/urls",
            headers=keys.headers(),
            json={"scope": "blog", "prompt": prompt, **extra},
        )
        assert made.status_code == 200, made.text
        data = made.json()["data"]
        assert data["signed"] and data["imgTag"].startswith("<img src=")
        url: str = data["url"]
        return url.removeprefix("http://testserver")

    signed = await build("a signed cat", aspectRatio="4:3", transform="w=64")
    first = await client.get(signed)
    assert first.status_code == 200, first.text
    # Signed URLs are the owner's: the client-IP limit (1/hour here) does not apply.
    second = await client.get(await build("a second signed cat"))
    assert second.status_code == 200, second.text
    tampered = signed.replace("signed+cat", "signed+dog").replace("signed%20cat", "signed%20dog")
    assert tampered != signed
    bad = await client.get(tampered)
    assert bad.status_code == 403 and bad.json()["error"]["code"] == "INVALID_SIGNATURE"
    expired = await build("an expiring cat", expiresInSeconds=1)
    await asyncio.sleep(1.1)
    late = await client.get(expired)
    assert late.status_code == 403 and "expired" in late.json()["error"]["message"]
    # The cached image itself is public: hits need no signature.
    hit = await client.get(live_url("a signed cat", extra="aspectRatio=4:3"))
    assert hit.status_code == 200 and hit.headers["x-cache-status"] == "HIT"


async def test_bad_requests_and_unknown_projects(client: httpx.AsyncClient, keys: Keys) -> None:
    for url, code in (
        ("/cdn/acme/site/live/blog", "VALIDATION_ERROR"),
        ("/cdn/acme/site/live/blog?prompt=%20%20", "VALIDATION_ERROR"),
        (live_url("x", extra="aspectRatio=7:3"), "VALIDATION_ERROR"),
        (live_url("x", extra="template=baroque"), "VALIDATION_ERROR"),
        (live_url("x", extra="autoEnhance=maybe"), "VALIDATION_ERROR"),
        (live_url("x", scope="bad scope!"), "VALIDATION_ERROR"),
        (live_url("x", project="nope"), "PROJECT_NOT_FOUND"),
        ("/cdn/nope/site/live/blog?prompt=x", "PROJECT_NOT_FOUND"),
    ):
        response = await client.get(url)
        assert response.status_code in (400, 404), (url, response.text)
        assert response.json()["error"]["code"] == code, url
        assert response.headers["cache-control"] == "no-store"
    svg = await client.get("/cdn/acme/site/live/blog", headers={"Accept": BROWSER_ACCEPT})
    assert svg.status_code == 400 and svg.headers["content-type"] == "image/svg+xml"


async def test_transformations_select_variants_of_the_cached_image(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    import pyvips

    base = live_url("a wide harbour at noon", extra="aspectRatio=16:9")
    # The first request may already ask for a variant: it generates, then transforms.
    first = await client.get(f"{base}&w=320")
    assert first.status_code == 200, first.text
    assert first.headers["x-cache-status"] == "MISS"
    assert pyvips.Image.new_from_buffer(first.content, "").width == 320
    webp = await client.get(
        f"{base}&w=800&format=auto", headers={"Accept": "image/webp,image/*,*/*;q=0.8"}
    )
    assert webp.status_code == 200, webp.text
    assert webp.headers["content-type"] == "image/webp" and webp.headers["vary"] == "Accept"
    assert webp.headers["x-cache-status"] == "HIT"
    assert webp.headers["cache-control"] == "public, max-age=86400"
    assert webp.headers["x-image-id"] == first.headers["x-image-id"]
    decoded = pyvips.Image.new_from_buffer(webp.content, "")
    assert (decoded.width, decoded.height) == (800, 457)
    crop = await client.get(f"{base}&w=100&h=100&mode=crop&format=jpeg")
    assert crop.headers["content-type"] == "image/jpeg"
    assert pyvips.Image.new_from_buffer(crop.content, "").width == 100
    again = await client.get(f"{base}&w=100&h=100&mode=crop&format=jpeg")
    assert again.content == crop.content and again.headers["etag"] == crop.headers["etag"]
    conditional = await client.get(
        f"{base}&w=100&h=100&mode=crop&format=jpeg",
        headers={"If-None-Match": crop.headers["etag"]},
    )
    assert conditional.status_code == 304
    original = await client.get(base)
    assert original.headers["content-type"] == "image/png"
    assert pyvips.Image.new_from_buffer(original.content, "").width == 1344
    assert await generation_count(app) == 1
    bad = await client.get(f"{base}&w=0")
    assert bad.status_code == 400 and bad.headers["cache-control"] == "no-store"
    assert "w" in bad.json()["error"]["message"]


async def test_head_never_generates_nor_charges(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI
) -> None:
    url = live_url("a lighthouse at dusk", extra="w=200")
    for accept in (None, BROWSER_ACCEPT):
        probe = await client.head(url, headers={"Accept": accept} if accept else {})
        assert probe.status_code == 404
        assert probe.headers["x-error-code"] == "LIVE_IMAGE_NOT_GENERATED"
        assert probe.headers["cache-control"] == "no-store"
    assert await generation_count(app) == 0
    usage = (await client.get("/api/v1/usage", headers=keys.headers())).json()["data"]
    assert usage["used"] == 0
    assert (await client.get(url)).status_code == 200
    again = await client.head(url)
    assert again.status_code == 200 and again.headers["x-cache-status"] == "HIT"
    assert await generation_count(app) == 1


async def test_this_machines_visitors_are_the_owners_on_the_embedded_defaults(
    client: httpx.AsyncClient, keys: Keys, app: FastAPI, client_at: ClientFactory
) -> None:
    """A page of 12 live images on a fresh `make run`: all 12 generate (the default limit is
    10/hour per IP); another machine still meets the limit, and scope limits still apply."""
    settings = app.state.runtime.settings
    settings.live_ip_rate_limit = "10/hour"
    assert settings.live_owner_ips is None and not settings.gemini_api_key
    for ip in ("127.0.0.1", "::1"):
        async with client_at(ip) as local:
            for i in range(12):
                response = await local.get(live_url(f"tile {ip} {i}", scope=f"page{ip[-1]}"))
                assert response.status_code == 200, (ip, i, response.text)
    async with client_at("203.0.113.9") as visitor:
        codes = [(await visitor.get(live_url(f"remote {i}"))).status_code for i in range(11)]
        assert codes == [200] * 10 + [429]
    # A same-host proxy passes its visitors on from loopback: they are not the owner's.
    async with client_at("127.0.0.1") as proxy:
        passed = {"X-Forwarded-For": "198.51.100.1"}
        codes = [
            (await proxy.get(live_url(f"proxied {i}"), headers=passed)).status_code
            for i in range(11)
        ]
        assert codes == [200] * 10 + [429]
    scoped = await client.post(
        "/api/v1/live/scopes",
        headers=keys.headers(),
        json={"slug": "small", "newGenerationsLimit": 1},
    )
    assert scoped.status_code == 201, scoped.text
    async with client_at("127.0.0.1") as local:
        assert (await local.get(live_url("one", scope="small"))).status_code == 200
        full = await local.get(live_url("two", scope="small"))
        assert full.status_code == 429 and full.json()["error"]["code"] == "SCOPE_LIMIT_EXCEEDED"

    # With Gemini a miss costs money: loopback is nobody's unless the setting says so (a
    # reverse proxy on the same host makes every visitor loopback).
    settings.gemini_api_key = "set"
    settings.live_ip_rate_limit = "1/hour"
    async with client_at("127.0.0.1") as local:
        assert (await local.get(live_url("gemini 1", scope="g"))).status_code == 200
        assert (await local.get(live_url("gemini 2", scope="g"))).status_code == 429
    settings.gemini_api_key = None
    settings.live_owner_ips = ""
    async with client_at("::1") as local:
        assert (await local.get(live_url("off 1", scope="h"))).status_code == 200
        assert (await local.get(live_url("off 2", scope="h"))).status_code == 429
