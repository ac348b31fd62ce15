"""Playground, gallery and an image's page: the same services as the REST API, for the
project of the URL."""

from __future__ import annotations

import re

import httpx

from tests.integration.console.helpers import console_client, csrf_of, post_form, sign_up

GENERATE = "/console/playground/generate"


async def _generate(
    client: httpx.AsyncClient,
    org: str,
    data: dict[str, str],
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> httpx.Response:
    page = await client.get(f"/console/{org}/main/playground")
    assert page.status_code == 200
    return await client.post(
        GENERATE,
        data={"org": org, "project": "main", "csrf_token": csrf_of(page), **data},
        files=files,
        headers={"X-Fragment": "1"},
    )


async def test_playground_generates_with_snippets_and_focal_point(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, "quinn@example.com")
    page = await client.get("/console/quinn/main?welcome=1", follow_redirects=True)
    for label in (
        "Prompt",
        "Aspect ratio",
        "Template",
        "Namespace",
        "Reference images",
        "Generate",
    ):
        assert label in page.text
    result = await _generate(
        client,
        "quinn",
        {"prompt": "ein roter Fuchs im Schnee", "aspect_ratio": "16:9", "template": "illustration"},
    )
    assert result.status_code == 201, result.text
    assert "Original prompt" in result.text and "ein roter Fuchs im Schnee" in result.text
    assert "Enhanced prompt" in result.text
    for snippet in (
        "snippet-curl",
        "snippet-python",
        "snippet-javascript",
        "snippet-openai",
        "snippet-mcp",
        "snippet-live",
        "snippet-html",
    ):
        assert f'id="{snippet}"' in result.text, snippet
    assert "data-focal-url" in result.text and "thumbnail variant" in result.text
    image_id = re.search(r"/images/([0-9a-f-]{36})/focal", result.text)
    assert image_id
    gallery = await client.get("/console/quinn/main/gallery")
    assert image_id.group(1) in gallery.text
    usage = await client.get("/console/quinn/main/usage")
    assert usage.status_code == 200 and "<strong>1</strong> of 100" in usage.text


async def test_playground_errors_come_back_in_place(client: httpx.AsyncClient) -> None:
    await sign_up(client, "rae@example.com")
    empty = await _generate(client, "rae", {"prompt": "  "})
    assert empty.status_code == 400
    assert 'role="alert"' in empty.text and "prompt" in empty.text
    missing_alias = await _generate(client, "rae", {"prompt": "a cup with @logo"})
    assert missing_alias.status_code in (400, 404) and "@logo" in missing_alias.text
    no_csrf = await client.post(GENERATE, data={"org": "rae", "project": "main", "prompt": "x"})
    assert no_csrf.status_code == 403


async def test_playground_is_refused_for_another_organization(client: httpx.AsyncClient) -> None:
    await sign_up(client, "sam@example.com")
    async with console_client(client) as stranger:
        await sign_up(stranger, "tia@example.com")
        page = await stranger.get("/console/tia/main/playground")
        response = await stranger.post(
            GENERATE,
            data={"org": "sam", "project": "main", "prompt": "x", "csrf_token": csrf_of(page)},
        )
    assert response.status_code == 404
    assert "0 images" in (await client.get("/console/sam/main/gallery")).text


async def test_alias_focal_point_filters_and_delete(client: httpx.AsyncClient) -> None:
    await sign_up(client, "uma@example.com")
    made = await _generate(client, "uma", {"prompt": "a lighthouse at dusk"})
    image_id = re.search(r"/images/([0-9a-f-]{36})/focal", made.text)
    assert image_id
    path = f"/console/uma/main/images/{image_id.group(1)}"
    aliased = await post_form(client, path, f"{path}/alias", {"alias": "@hero"})
    assert aliased.status_code == 200 and "Alias set to @hero." in aliased.text
    assert "http://testserver/cdn/uma/main/img/@hero" in aliased.text
    by_alias = await client.get("/cdn/uma/main/img/@hero")
    assert by_alias.status_code == 200 and by_alias.headers["content-type"].startswith("image/")
    bad = await post_form(client, path, f"{path}/alias", {"alias": "@bad alias!"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text

    page = await client.get(path)
    focal = await client.post(
        f"{path}/focal", data={"x": "0.2", "y": "0.8"}, headers={"X-CSRF-Token": csrf_of(page)}
    )
    assert focal.status_code == 200 and "x 0.20, y 0.80" in focal.text
    api_view = await client.get(path)
    assert 'data-x="0.2"' in api_view.text and 'data-y="0.8"' in api_view.text

    assert "@hero" in (await client.get("/console/uma/main/gallery?alias=@hero")).text
    assert "No images match" in (await client.get("/console/uma/main/gallery?source=uploaded")).text
    assert (await client.get("/console/uma/main/gallery?source=nope")).status_code == 400

    deleted = await post_form(client, path, f"{path}/delete", {})
    assert deleted.status_code == 303
    assert (await client.get(path)).status_code == 404
    assert (await client.get("/cdn/uma/main/img/@hero")).status_code == 404


async def test_project_pages_render_with_empty_states(client: httpx.AsyncClient) -> None:
    await sign_up(client, "val@example.com")
    for tab, text in (
        ("flows", "No flows yet"),
        ("namespaces", "No namespaces yet"),
        ("live", "No scopes yet"),
        ("gallery", "Generate one in the Playground"),
        ("usage", "Free plan"),
    ):
        response = await client.get(f"/console/val/main/{tab}")
        assert response.status_code == 200, tab
        assert text in response.text, tab


async def test_flow_timeline_and_live_url_builder(client: httpx.AsyncClient) -> None:
    await sign_up(client, "wes@example.com")
    made = await _generate(client, "wes", {"prompt": "a paper boat"})
    flow_id = re.search(r'href="/console/wes/main/flows\?flow=([0-9a-f-]{36})"', made.text)
    assert flow_id
    timeline = await client.get(f"/console/wes/main/flows?flow={flow_id.group(1)}")
    assert "Step 1" in timeline.text and "a paper boat" in timeline.text

    built = await post_form(
        client,
        "/console/wes/main/live",
        "/console/wes/main/live/url",
        {"scope": "landing", "prompt": "a hot air balloon", "aspect_ratio": "3:2"},
    )
    assert built.status_code == 200
    url = re.search(r'<code id="live-url">([^<]+)</code>', built.text)
    assert url and url.group(1).startswith("http://testserver/cdn/wes/main/live/landing?")
    image = await client.get(url.group(1).replace("&amp;", "&"))
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    scopes = await client.get("/console/wes/main/live")
    assert "landing" in scopes.text and "hot air balloon" in scopes.text
    bad = await post_form(
        client, "/console/wes/main/live", "/console/wes/main/live/url", {"scope": "x", "prompt": ""}
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.text


async def test_reference_images_by_alias_and_upload(client: httpx.AsyncClient) -> None:
    await sign_up(client, "xan@example.com")
    first = await _generate(client, "xan", {"prompt": "a round logo"})
    logo_id = re.search(r"/images/([0-9a-f-]{36})/focal", first.text)
    assert logo_id
    path = f"/console/xan/main/images/{logo_id.group(1)}"
    await post_form(client, path, f"{path}/alias", {"alias": "@logo"})
    page = await client.get("/console/xan/main/playground")
    assert '<option value="@logo">@logo</option>' in page.text
    png = (await client.get(f"/cdn/xan/main/img/{logo_id.group(1)}?w=64&format=png")).content
    made = await client.post(
        GENERATE,
        data={
            "org": "xan",
            "project": "main",
            "prompt": "a coffee cup",
            "reference_images": "@logo",
            "csrf_token": csrf_of(page),
        },
        files={"reference_upload": ("sketch.png", png, "image/png")},
        headers={"X-Fragment": "1"},
    )
    assert made.status_code == 201, made.text
    refs = re.search(r"<dt>References</dt><dd>(.*?)</dd>", made.text)
    assert refs and "@logo" in refs.group(1) and refs.group(1).count("<a ") == 2
    uploaded = await client.get("/console/xan/main/gallery?source=uploaded")
    assert "1 image<" in uploaded.text


async def test_live_scope_regenerate(client: httpx.AsyncClient) -> None:
    await sign_up(client, "yara@example.com")
    built = await post_form(
        client,
        "/console/yara/main/live",
        "/console/yara/main/live/url",
        {"scope": "hero", "prompt": "a mountain lake"},
    )
    url = re.search(r'<code id="live-url">([^<]+)</code>', built.text)
    assert url
    first = await client.get(url.group(1).replace("&amp;", "&"))
    assert first.status_code == 200
    before = (await client.get("/console/yara/main/live")).text
    old_ids = set(re.findall(r"/images/([0-9a-f-]{36})", before))
    assert len(old_ids) == 1
    again = await post_form(
        client, "/console/yara/main/live", "/console/yara/main/live/hero/regenerate", {}
    )
    assert again.status_code == 200 and "Regenerated 1 image of hero." in again.text
    new_ids = set(re.findall(r"/images/([0-9a-f-]{36})", again.text))
    assert len(new_ids) == 1 and new_ids != old_ids
    usage = await client.get("/console/yara/main/usage")
    assert "<strong>2</strong> of 100" in usage.text  # the miss and the regeneration
    missing = await post_form(
        client, "/console/yara/main/live", "/console/yara/main/live/nope/regenerate", {}
    )
    assert missing.status_code == 404
