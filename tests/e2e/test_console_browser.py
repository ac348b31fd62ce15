"""The web console in headless Chromium (Debian's, as `make install` sets it up): the journey of
issue 14 from sign-up to a live URL, another organization's pages refused, a form without its
CSRF token refused, and axe-core (as axe-playwright-python ships it) finding no serious or
critical accessibility violation on any page.

BANATIE_CONSOLE_SCREENSHOTS=docs/console also saves every page at desktop and phone widths
(the README links them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, free_port, start_server, stop_server
from tests.e2e.test_live_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow

PASSWORD = "a long test password"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("BANATIE_CONSOLE_SCREENSHOTS")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail("Chromium is missing: `make install` installs it (apt-get install chromium)")
    port = free_port()
    running = start_server(
        tmp_path_factory.mktemp("console") / "var",
        port,
        {"BANATIE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
    )
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def new_page(browser: Any, server: Server) -> Any:
    context = browser.new_context(base_url=server.base_url, viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def sign_up(page: Any, email: str, organization: str) -> None:
    page.goto("/console/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Organization name").fill(organization)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/playground?welcome=1")


def generate(page: Any, prompt: str, ratio: str = "1:1") -> str:
    """Generate in the playground; returns the new image's id."""
    page.get_by_role("link", name="Playground", exact=True).click()
    page.get_by_label("Prompt").fill(prompt)
    page.get_by_label("Aspect ratio").select_option(ratio)
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("Enhanced prompt").wait_for()
    focal: str = page.locator("[data-focal-url]").get_attribute("data-focal-url")
    return focal.rsplit("/", 2)[-2]


def test_journey_from_sign_up_to_a_live_url(browser: Any, server: Server, tmp_path: Path) -> None:
    page = new_page(browser, server)
    # Sign up: an organization and a first project, straight into its playground.
    sign_up(page, "journey@example.com", "Journey Co")
    assert page.url.endswith("/console/journey-co/main/playground?welcome=1")
    assert page.get_by_role("link", name="My first project", exact=True).is_visible()

    # Create a key: shown once.
    page.get_by_role("link", name="Keys", exact=True).click()
    page.get_by_label("Name").fill("journey")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key").inner_text().strip()
    assert key.startswith("bnt_")
    page.reload()  # a reload re-posts nothing: the key list only shows its prefix
    page.goto("/console/journey-co/main/keys")
    assert key not in page.content() and key[:12] in page.content()

    # Generate in the playground, with the progress indicator showing meanwhile.
    page.get_by_role("link", name="Playground", exact=True).click()
    page.get_by_label("Prompt").fill("a red fox in a snowy forest")
    page.get_by_label("Aspect ratio").select_option("16:9")
    page.get_by_label("Template").select_option("illustration")
    page.route("**/console/playground/generate", lambda route: route.continue_())
    with page.expect_response("**/console/playground/generate") as answer:
        page.get_by_role("button", name="Generate").click()
        assert page.locator("#progress.on").is_visible()
    assert answer.value.status == 201
    page.get_by_text("Enhanced prompt").wait_for()
    assert not page.locator("#progress.on").is_visible()
    # The result's <img> is inserted with the answer; its bytes arrive a moment later.
    page.wait_for_function(
        "() => { const i = document.querySelector('#result .figure img');"
        " return i !== null && i.complete && i.naturalWidth > 0; }"
    )
    loaded = page.eval_on_selector("#result .figure img", "i => i.naturalWidth")
    assert loaded == 1344
    focal = page.locator("[data-focal-url]").get_attribute("data-focal-url")
    image_id = focal.rsplit("/", 2)[-2]
    live = (page.locator("#snippet-live").text_content() or "").strip()  # opened at the end

    # Copy the cURL snippet (through the clipboard, as a person would) and run it.
    page.get_by_role("button", name="Copy the cURL snippet").click()
    curl = page.evaluate("navigator.clipboard.readText()")
    assert curl.startswith("curl ") and server.base_url in curl and "BANATIE_API_KEY" in curl
    ran = subprocess.run(
        ["bash", "-c", curl],
        env={**os.environ, "BANATIE_API_KEY": key},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    made = json.loads(ran.stdout)
    assert made["success"] is True, made
    assert made["data"]["originalPrompt"] == "a red fox in a snowy forest"

    # The image is in the gallery (with the snippet's own generation beside it).
    page.get_by_role("link", name="Gallery", exact=True).click()
    assert page.get_by_text("2 images").is_visible()
    page.locator(f'a[href$="/images/{image_id}"]').first.click()

    # Set an alias, then open the image by its alias URL.
    page.get_by_label("Alias").fill("@fox")
    page.get_by_role("button", name="Save alias").click()
    page.get_by_text("Alias set to @fox.").wait_for()
    alias_url = page.locator("#alias-url").get_attribute("href")
    assert alias_url == f"{server.base_url}/cdn/journey-co/main/img/@fox"
    with page.expect_navigation() as opened:
        page.locator("#alias-url").click()
    response = opened.value
    assert response.status == 200 and response.headers["content-type"].startswith("image/")

    # And the generation's live URL (its snippet): a browser opens it and gets the image.
    assert live.startswith(f"{server.base_url}/cdn/journey-co/main/live/")
    opened_live = page.goto(live)
    assert opened_live.status == 200
    assert opened_live.headers["content-type"].startswith("image/")
    page.context.close()


def test_another_organization_is_not_theirs(browser: Any, server: Server) -> None:
    owner = new_page(browser, server)
    sign_up(owner, "owner@example.com", "Private Org")
    stranger = new_page(browser, server)
    sign_up(stranger, "stranger@example.com", "Other Org")
    for path in (
        "/console/private-org",
        "/console/private-org/main/playground",
        "/console/private-org/main/gallery",
        "/console/private-org/main/keys",
        "/console/private-org/members",
    ):
        response = stranger.goto(path)
        assert response.status in (403, 404), path
        assert stranger.get_by_text("no organization 'private-org'").is_visible()
    owner.context.close()
    stranger.context.close()


def test_a_form_without_its_csrf_token_is_refused(browser: Any, server: Server) -> None:
    page = new_page(browser, server)
    sign_up(page, "csrf@example.com", "Csrf Org")
    page.goto("/console/csrf-org/main/keys")
    # The form as an attacker's page would post it: everything but the token.
    page.eval_on_selector(
        'form[action$="/keys"]', "f => f.querySelector('[name=csrf_token]').remove()"
    )
    page.get_by_label("Name").fill("forged")
    with page.expect_navigation() as posted:
        page.get_by_role("button", name="Create key").click()
    assert posted.value.status == 403
    assert page.get_by_role("heading", name="Form expired").is_visible()
    forged = page.request.post(
        f"{server.base_url}/console/csrf-org/main/keys", form={"name": "forged"}
    )
    assert forged.status == 403
    page.goto("/console/csrf-org/main/keys")
    assert page.get_by_text("No keys yet").is_visible()
    page.context.close()


def check_page(page: Any, name: str) -> list[str]:
    """axe-core's serious and critical violations of the page, and whether it fits a phone's
    width (and screenshots if asked)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = [
        f"{name}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    # Usable on a phone: nothing but the scrollable tabs and tables is wider than the screen.
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append(f"{name}: {width} px wide at {PHONE['width']} px")
    page.set_viewport_size(DESKTOP)
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=folder / f"{name}-{label}.png", full_page=True)
        page.set_viewport_size(DESKTOP)
    return problems


def test_every_page_passes_axe(browser: Any, server: Server) -> None:
    page = new_page(browser, server)
    problems: list[str] = []
    for name, path in (("signup", "/console/signup"), ("login", "/console/login")):
        page.goto(path)
        problems += check_page(page, name)
    page.goto("/console/reset")
    problems += check_page(page, "reset")
    sign_up(page, "axe@example.com", "Axe Studio")
    base = "/console/axe-studio/main"
    image_id = generate(page, "a lighthouse on a cliff at dusk", "16:9")
    problems += check_page(page, "playground")
    page.get_by_role("link", name="Keys", exact=True).click()
    page.get_by_role("button", name="Create key").click()
    problems += check_page(page, "keys")
    page.goto(f"{base}/images/{image_id}")
    page.get_by_label("Alias").fill("@lighthouse")
    page.get_by_role("button", name="Save alias").click()
    page.get_by_text("Alias set to @lighthouse.").wait_for()
    problems += check_page(page, "image")
    flow = page.locator('a[href*="/flows?flow="]').first.get_attribute("href")
    for name, path in (
        ("gallery", f"{base}/gallery"),
        ("flows", flow),
        ("namespaces", f"{base}/namespaces"),
        ("usage", f"{base}/usage"),
        ("projects", "/console/axe-studio"),
        ("members", "/console/axe-studio/members"),
    ):
        page.goto(path)
        problems += check_page(page, name)
    page.get_by_role("button", name="Create invitation link").click()
    invite = page.locator("#invite-link").inner_text()
    problems += check_page(page, "invitation")
    page.goto(invite)
    problems += check_page(page, "invite")
    page.goto("/console/no-such-org")
    problems += check_page(page, "error")
    page.goto(f"{base}/live")
    page.get_by_label("Prompt").fill("a hot air balloon over fields")
    page.get_by_role("button", name="Build URL").click()
    page.goto(page.locator("#live-url").inner_text())
    page.goto(f"{base}/live")
    problems += check_page(page, "live")
    assert problems == [], "\n".join(problems)
    page.context.close()
