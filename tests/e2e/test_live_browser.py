"""A page with eight live `<img>` URLs in headless Chromium: every image loads with its natural
size on the first visit (misses), and a reload is served from hits only."""

from __future__ import annotations

import html
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote

import httpx
import pytest

from banatie.delivery.params import output_size, parse_transform
from banatie.providers.ports import ASPECT_RATIO_SIZES
from tests.e2e.conftest import Server, free_port, start_server, stop_server

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IMAGES = [
    ("a red fox in a snowy forest", "16:9", ""),
    ("a lighthouse at dusk", "1:1", ""),
    ("a bowl of ramen, top view", "4:3", ""),
    ("mountain lake at sunrise", "21:9", ""),
    ("a robot reading a book", "3:4", ""),
    ("a cup of coffee with latte art", "1:1", "&template=photorealistic"),
    ("a paper boat on a puddle", "9:16", "&autoEnhance=false"),
    # A variant of the cached image, in a format the browser negotiates; tracking is ignored.
    ("a hot air balloon over fields", "3:2", "&utm_source=newsletter&w=640&format=auto"),
]


def natural_size(ratio: str, extra: str) -> list[object]:
    width, height = ASPECT_RATIO_SIZES[ratio]
    spec = parse_transform(dict(parse_qsl(extra.lstrip("&"))))
    return [True, *output_size(spec, width, height)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Chromium is missing: `make install` installs it (apt-get install chromium)")
    running = start_server(tmp_path / "var", free_port())
    yield running
    stop_server(running)


@pytest.fixture
def page_url(tmp_path: Path, server: Server) -> Iterator[str]:
    """An ordinary web page on another origin, as an LLM agent would write it."""
    site = tmp_path / "site"
    site.mkdir()
    tags = []
    for prompt, ratio, extra in IMAGES:
        src = f"{server.base_url}/cdn/default/main/live/landing?prompt={quote(prompt)}"
        src += f"&aspectRatio={ratio}{extra}"
        tags.append(f'<img src="{html.escape(src)}" alt="{html.escape(prompt)}">')
    (site / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>live</title></head><body>"
        + "\n".join(tags)
        + "</body></html>"
    )
    handler = partial(SimpleHTTPRequestHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/index.html"
    httpd.shutdown()
    httpd.server_close()


def test_live_images_in_a_browser(server: Server, page_url: str) -> None:
    from playwright.sync_api import Response, sync_playwright

    statuses: list[tuple[str, int, str]] = []

    def record(response: Response) -> None:
        if "/live/" in response.url:
            statuses.append(
                (response.url, response.status, response.headers.get("x-cache-status", ""))
            )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.on("response", record)
            page.goto(page_url, wait_until="load", timeout=90_000)
            sizes = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            expected = [natural_size(ratio, extra) for _, ratio, extra in IMAGES]
            assert expected[-1] == [True, 640, 427]
            assert sizes == expected
            assert len(statuses) == 8 and {s[1] for s in statuses} == {200}, statuses
            assert {s[2] for s in statuses} == {"MISS"}

            # Reload with the browser cache off (routing disables it), so that every image
            # really asks the server.
            page.route("**/*", lambda route: route.continue_())
            statuses.clear()
            page.reload(wait_until="load", timeout=60_000)
            again = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
            )
            assert again == expected
            assert len(statuses) == 8, statuses
            assert {(s[1], s[2]) for s in statuses} == {(200, "HIT")}, statuses
        finally:
            browser.close()

    generations = httpx.get(
        f"{server.base_url}/api/v1/generations?limit=100",
        headers={"X-API-Key": server.key},
        timeout=10,
    ).json()
    assert generations["pagination"]["total"] == 8
    assert {g["source"] for g in generations["data"]} == {"live"}
