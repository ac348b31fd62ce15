"""Every snippet the API hands out for a generation and for an image runs as printed: the shell
ones with bash, the Python ones (Banatie SDK, OpenAI SDK) with Python, the JS one with Node and
the packed @banatie/sdk, the live URL and every URL of the HTML with an HTTP client."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from banatie_sdk import Banatie
from tests.sdk.conftest import SdkServer, run, sdk_env
from tests.support.images import solid_png


class _Urls(HTMLParser):
    """The tags of an HTML snippet, with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _srcset_urls(srcset: str) -> list[str]:
    return [part.strip().rsplit(" ", 1)[0] for part in srcset.split(",") if part.strip()]


def _check_html(code: str, width: int, height: int) -> None:
    parser = _Urls()
    parser.feed(code)
    img = next(attrs for tag, attrs in parser.tags if tag == "img")
    assert (img["width"], img["height"]) == (str(width), str(height))
    assert img["alt"] and img["sizes"]
    assert httpx.get(img["src"]).status_code == 200
    for _tag, attrs in parser.tags:
        if "srcset" not in attrs:
            continue
        urls = _srcset_urls(attrs["srcset"])
        assert urls
        wanted = attrs.get("type")
        for url in urls:
            answer = httpx.get(url, headers={"Accept": "image/avif,image/webp,*/*"})
            assert answer.status_code == 200, (url, answer.text[:200])
            if wanted:
                assert answer.headers["content-type"] == wanted, url


def _run_python(code: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{code}\n{done.stderr}"
    return done.stdout


def _call_mcp(server: SdkServer, message: str) -> dict[str, Any]:
    """POST a JSON-RPC message to /mcp as a client would; the result of its answer (sent as
    server-sent events or as JSON)."""
    answer = httpx.post(
        f"{server.base_url}/mcp",
        content=message.encode(),
        headers={
            "X-API-Key": server.key,
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"].startswith("text/event-stream"):
        events = [line[5:] for line in answer.text.splitlines() if line.startswith("data:")]
        body = json.loads(events[-1])
    else:
        body = answer.json()
    assert "error" not in body, body
    result: dict[str, Any] = body["result"]
    return result


def _snippets(server: SdkServer, path: str) -> dict[str, dict[str, str]]:
    answer = httpx.get(f"{server.base_url}{path}", headers={"X-API-Key": server.key})
    assert answer.status_code == 200, answer.text
    return {snippet["id"]: snippet for snippet in answer.json()["data"]}


@pytest.fixture(scope="module")
def sdk(sdk_server: SdkServer) -> Banatie:
    return Banatie(api_key=sdk_server.key, base_url=sdk_server.base_url)


def test_generation_snippets_run_as_printed(
    sdk: Banatie, sdk_server: SdkServer, js_app: Path, tmp_path: Path
) -> None:
    sdk.images.upload(solid_png(64, 64, (20, 120, 60)), filename="mark.png", alias="@snip-mark")
    original = sdk.generations.create(
        "a paper lantern with @snip-mark on it", aspect_ratio="16:9", template="illustration"
    )
    snippets = _snippets(sdk_server, f"/api/v1/generations/{original.id}/snippets")
    assert set(snippets) == {
        "curl",
        "python",
        "javascript",
        "openai",
        "mcp",
        "live",
        "html",
        "picture",
    }
    env = sdk_env(sdk_server)
    before = {g.id for g in sdk.generations.list()}

    curl = snippets["curl"]
    assert curl["language"] == "bash" and sdk_server.key not in curl["code"]
    made = json.loads(run(["bash", "-c", curl["code"]], tmp_path, env))["data"]
    assert (made["originalPrompt"], made["aspectRatio"], made["template"]) == (
        original.original_prompt,
        "16:9",
        "illustration",
    )
    assert [ref["alias"] for ref in made["referencedImages"]] == ["@snip-mark"]

    for name in ("python", "openai"):
        url = _run_python(snippets[name]["code"], env, tmp_path).strip().splitlines()[-1]
        image = httpx.get(url)
        assert image.status_code == 200, (name, url)
        assert image.headers["content-type"].startswith("image/")

    (js_app / "snippet.mjs").write_text(snippets["javascript"]["code"])
    url = run(["node", "snippet.mjs"], js_app, env).strip().splitlines()[-1]
    assert httpx.get(url).status_code == 200

    after = [g for g in sdk.generations.list() if g.id not in before]
    assert len(after) == 4  # curl, python, openai and javascript each made one (MCP below)
    assert {g.original_prompt for g in after} == {original.original_prompt}
    assert {g.aspect_ratio for g in after} == {"16:9"}

    live = httpx.get(snippets["live"]["code"])
    assert live.status_code == 200, live.text
    assert live.headers["x-cache-status"] == "MISS"

    # The MCP tool call, POSTed to /mcp as printed (the endpoint answers stateless calls).
    by_mcp = _call_mcp(sdk_server, snippets["mcp"]["code"])
    assert not by_mcp.get("isError"), by_mcp
    made_by_mcp = by_mcp["structuredContent"]
    assert (made_by_mcp["originalPrompt"], made_by_mcp["aspectRatio"]) == (
        original.original_prompt,
        "16:9",
    )
    assert made_by_mcp["template"] == "illustration"
    assert made_by_mcp["referencedImages"] == [ref.id for ref in original.referenced_images]
    assert httpx.get(made_by_mcp["image"]["url"]).status_code == 200

    output = original.output_image
    assert output is not None
    _check_html(snippets["html"]["code"], output.width, output.height)
    _check_html(snippets["picture"]["code"], output.width, output.height)


def test_image_snippets_run_as_printed(
    sdk: Banatie, sdk_server: SdkServer, js_app: Path, tmp_path: Path
) -> None:
    image = sdk.images.upload(solid_png(300, 200), filename="banner.png", alias="@snip-banner")
    snippets = _snippets(sdk_server, "/api/v1/images/@snip-banner/snippets")
    assert set(snippets) == {"curl", "python", "javascript", "html", "picture"}
    env = sdk_env(sdk_server)

    shown = run(["bash", "-c", snippets["curl"]["code"]], tmp_path, env)
    assert (tmp_path / "image.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads(shown)["data"]["id"] == image.id

    url = _run_python(snippets["python"]["code"], env, tmp_path).strip()
    assert httpx.get(url).status_code == 200
    assert (tmp_path / "card.webp").read_bytes()[8:12] == b"WEBP"

    (js_app / "image-snippet.mjs").write_text(snippets["javascript"]["code"])
    url = run(["node", "image-snippet.mjs"], js_app, env).strip()
    assert httpx.get(url).status_code == 200

    _check_html(snippets["html"]["code"], 300, 200)
    _check_html(snippets["picture"]["code"], 300, 200)


def test_snippets_of_what_does_not_exist(sdk_server: SdkServer) -> None:
    headers = {"X-API-Key": sdk_server.key}
    missing = httpx.get(
        f"{sdk_server.base_url}/api/v1/generations/00000000-0000-0000-0000-000000000000/snippets",
        headers=headers,
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "GENERATION_NOT_FOUND"
    unknown = httpx.get(f"{sdk_server.base_url}/api/v1/images/@nope/snippets", headers=headers)
    assert unknown.json()["error"]["code"] == "IMAGE_NOT_FOUND"
