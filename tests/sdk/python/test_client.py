"""The synchronous Python SDK against a running server: every resource, the URL builders and
the errors, as a user of `banatie_sdk` sees them."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import pyvips

from banatie_sdk import (
    APIConnectionError,
    AuthenticationError,
    Banatie,
    NotFoundError,
    QuotaExceededError,
    RateLimitError,
    ValidationError,
)
from tests.e2e.conftest import free_port
from tests.sdk.conftest import SIGNING_KEY, SdkServer
from tests.support.images import solid_png


@pytest.fixture(scope="module")
def client(sdk_server: SdkServer) -> Iterator[Banatie]:
    with Banatie(
        api_key=sdk_server.key,
        base_url=sdk_server.base_url,
        organization="default",
        project="main",
        signing_key=SIGNING_KEY,
    ) as sdk:
        yield sdk


def _size(data: bytes) -> tuple[int, int]:
    image = pyvips.Image.new_from_buffer(data, "")
    return image.width, image.height


def test_generation_lifecycle(client: Banatie) -> None:
    fox = client.generations.create(
        "a red fox in a snowy forest", aspect_ratio="16:9", template="illustration", alias="@fox"
    )
    assert fox.status == "success"
    assert fox.output_image is not None
    assert (fox.output_image.width, fox.output_image.height) == (1344, 768)
    assert fox.output_image.alias == "@fox"
    assert fox.flow_id is not None
    assert client.generations.get(fox.id).prompt == fox.prompt

    # A second step in the same flow, with the first image as an explicit reference.
    night = client.generations.create(
        "the same scene at night", flow_id=fox.flow_id, reference_images=[fox.output_image]
    )
    assert night.flow_id == fox.flow_id
    assert [ref.id for ref in night.referenced_images] == [fox.output_image.id]
    loose = client.generations.create("a lone pine", flow_id=None, auto_enhance=False)
    assert loose.flow_id is None
    assert loose.prompt == "a lone pine"

    again = client.generations.regenerate(fox.id)
    assert again.output_image is not None
    assert again.output_image.id != fox.output_image.id
    assert client.images.get("@fox").id == again.output_image.id

    in_flow = list(client.generations.list(flow_id=fox.flow_id, page_size=1))
    assert {g.id for g in in_flow} >= {fox.id, night.id}

    deleted = client.generations.delete(loose.id)
    assert deleted.deleted and deleted.id == loose.id
    with pytest.raises(NotFoundError) as caught:
        client.generations.get(loose.id)
    assert caught.value.code == "GENERATION_NOT_FOUND"
    assert caught.value.status == 404


def test_generation_update(client: Banatie) -> None:
    made = client.generations.create("a green kettle", aspect_ratio="4:3", alias="@sdk-kettle")
    assert made.output_image is not None
    noted = client.generations.update(made.id, meta={"page": "kitchen"})
    assert noted.meta == {"page": "kitchen"} and noted.prompt == made.prompt
    redone = client.generations.update(made.id, prompt="a red kettle", aspect_ratio="1:1")
    assert redone.original_prompt == "a red kettle" and redone.aspect_ratio == "1:1"
    assert redone.output_image is not None
    # Made again in place: the same image id, alias and URL, new pixels.
    assert redone.output_image.id == made.output_image.id
    assert (redone.output_image.width, redone.output_image.height) == (1024, 1024)
    assert client.images.get("@sdk-kettle").width == 1024
    with pytest.raises(ValidationError):
        client.generations.update(made.id, aspect_ratio="7:3")


def test_flow_helper_chains_steps(client: Banatie) -> None:
    flow = client.flows.create(meta={"page": "winter"})
    assert (flow.generation_count, flow.meta) == (0, {"page": "winter"})
    fox = flow.generate("a red fox in a snowy forest", aspect_ratio="16:9")
    night = flow.generate("the same scene at night, @last")
    assert fox.output_image is not None and night.output_image is not None
    assert fox.flow_id == night.flow_id == flow.id
    assert [ref.id for ref in night.referenced_images] == [fox.output_image.id]  # @last
    mark = flow.upload(solid_png(40, 40), filename="mark.png", flow_alias="@mark")
    assert mark.flow_id == flow.id
    with_mark = flow.generate("a fox badge with @mark")
    assert [ref.id for ref in with_mark.referenced_images] == [mark.id]

    updated = flow.set_aliases({"@hero": fox.output_image})
    assert updated.aliases["@hero"] == fox.output_image.id and updated.id == flow.id
    fresh = flow.refresh()
    assert (fresh.generation_count, fresh.image_count) == (3, 4)
    assert with_mark.output_image is not None
    images = [image.id for image in fresh.images(page_size=2)]  # latest first
    assert images == [
        with_mark.output_image.id,
        mark.id,
        night.output_image.id,
        fox.output_image.id,
    ]
    assert [g.id for g in fresh.generations(page_size=2)] == [with_mark.id, night.id, fox.id]
    assert flow.id in [listed.id for listed in client.flows.list(page_size=2)]
    assert client.flows.get(flow.id).aliases == fresh.aliases

    again = fresh.regenerate()  # the last step, into a new image
    assert again.id == with_mark.id and again.output_image is not None
    assert again.output_image.id != with_mark.output_image.id
    gone = fresh.delete()
    assert gone.deleted and gone.generations_deleted == 3
    with pytest.raises(NotFoundError) as missing:
        client.flows.get(flow.id)
    assert missing.value.code == "FLOW_NOT_FOUND"


def test_namespaces(client: Banatie) -> None:
    swatch = client.images.upload(solid_png(30, 30, (200, 80, 40)), alias="@sdk-swatch")
    made = client.namespaces.create(
        "sdk-brand",
        name="Brand",
        style_prompt="flat vector, pastel palette",
        style_images=[swatch],
        aspect_ratio="16:9",
    )
    assert (made.slug, made.style_images, made.aspect_ratio) == ("sdk-brand", [swatch.id], "16:9")
    assert client.namespaces.get("SDK-Brand").id == made.id
    assert "sdk-brand" in [ns.slug for ns in client.namespaces.list(page_size=1)]
    styled = client.generations.create("a teapot", namespace="sdk-brand")
    assert styled.namespace == "sdk-brand" and styled.aspect_ratio == "16:9"
    assert "pastel" in styled.prompt
    changed = client.namespaces.update("sdk-brand", style_prompt=None, template="sticker")
    assert (changed.style_prompt, changed.template) == (None, "sticker")
    gone = client.namespaces.delete("sdk-brand")
    assert gone.deleted and gone.slug == "sdk-brand" and gone.images_kept == 1
    with pytest.raises(NotFoundError) as missing:
        client.namespaces.get("sdk-brand")
    assert missing.value.code == "NAMESPACE_NOT_FOUND"


def test_list_follows_pagination(client: Banatie) -> None:
    made = {client.generations.create(f"a paper boat number {n}").id for n in range(3)}
    seen = [g.id for g in client.generations.list(page_size=2)]
    assert made <= set(seen)
    assert len(seen) == len(set(seen))  # no page read twice


def test_images_upload_alias_update_delete(client: Banatie, tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    path.write_bytes(solid_png(80, 60))
    logo = client.images.upload(path, alias="@sdk-logo", meta={"owner": "sdk"})
    assert (logo.width, logo.height, logo.source) == (80, 60, "uploaded")
    assert logo.original_filename == "logo.png"
    assert logo.meta == {"owner": "sdk"}
    from_bytes = client.images.upload(solid_png(40, 40, (0, 0, 255)), filename="blue.png")
    from_file = client.images.upload(io.BytesIO(solid_png(20, 20)), filename="small.png")

    assert client.images.get("@sdk-logo").id == logo.id
    uploaded = {image.id for image in client.images.list(source="uploaded", page_size=1)}
    assert {logo.id, from_bytes.id, from_file.id} <= uploaded

    edited = client.images.update(logo, focal_point=(0.25, 0.75), alt_text="a red square")
    assert (edited.focal_point.x, edited.focal_point.y) == (0.25, 0.75)
    assert edited.alt_text == "a red square"

    moved = client.images.set_alias(from_bytes, "@sdk-logo")
    assert moved.alias == "@sdk-logo"
    assert moved.alias_moved_from == logo.id
    assert client.images.get(logo.id).alias is None
    assert client.images.set_alias(from_bytes.id, None).alias is None

    # A prompt referring to an alias passes that image to the model.
    client.images.set_alias(logo, "@sdk-logo")
    cup = client.generations.create("a coffee cup with @sdk-logo on it", template="product")
    assert [ref.alias for ref in cup.referenced_images] == ["@sdk-logo"]

    assert client.images.delete(from_file).deleted
    with pytest.raises(NotFoundError) as caught:
        client.images.get(from_file.id)
    assert caught.value.code == "IMAGE_NOT_FOUND"


def test_image_urls_and_download(client: Banatie, sdk_server: SdkServer, tmp_path: Path) -> None:
    image = client.images.upload(solid_png(300, 200), alias="@sdk-banner")

    # Unsigned, built from an id (needs organization and project) or from the Image itself.
    plain = client.images.url(image.id, w=150, sign=False)
    assert plain == f"{sdk_server.base_url}/cdn/default/main/img/{image.id}?w=150"
    assert client.images.url(image, sign=False) == image.storage_url

    # Signed with the server's delivery key: the origin accepts it, and refuses it once changed.
    signed = client.images.url(image, w=100, h=100, mode="crop", format="png", expires_in=600)
    assert "sig=" in signed and "exp=" in signed
    answer = httpx.get(signed)
    assert answer.status_code == 200, answer.text
    assert _size(answer.content) == (100, 100)
    tampered = httpx.get(signed.replace("w=100", "w=101"))
    assert tampered.status_code == 400
    assert tampered.json()["error"]["details"]["param"] == "sig"
    by_alias = httpx.get(client.images.url("@sdk-banner", w=60, gravity=(50.0, 30.0)))
    assert by_alias.status_code == 200
    assert _size(by_alias.content)[0] == 60

    saved = tmp_path / "banner.webp"
    data = client.images.download(image, saved, w=120, format="webp")
    assert saved.read_bytes() == data
    assert data[8:12] == b"WEBP"
    assert _size(data) == (120, 80)

    with pytest.raises(ValueError, match="signing_key"):
        Banatie(api_key="bnt_x", base_url=sdk_server.base_url).images.url(image, sign=True)
    with pytest.raises(ValueError, match="organization"):
        Banatie(api_key="bnt_x", base_url=sdk_server.base_url).images.url(image.id)


def test_live_scopes_and_urls(client: Banatie) -> None:
    scope = client.live.scopes.create("sdk-landing", new_generations_limit=5, meta={"page": "/"})
    assert (scope.slug, scope.new_generations_limit, scope.current_generations) == (
        "sdk-landing",
        5,
        0,
    )
    url = client.live.url("sdk-landing", "a lighthouse at dusk", aspect_ratio="16:9", w=320)
    first = httpx.get(url)
    assert first.status_code == 200, first.text
    assert first.headers["x-cache-status"] == "MISS"
    assert _size(first.content) == (320, 183)
    assert httpx.get(url).headers["x-cache-status"] == "HIT"

    images = list(client.live.scopes.images("sdk-landing"))
    assert [(i.prompt, i.aspect_ratio, i.status) for i in images] == [
        ("a lighthouse at dusk", "16:9", "ready")
    ]
    assert client.live.scopes.get("sdk-landing").current_generations == 1
    assert "sdk-landing" in {s.slug for s in client.live.scopes.list(page_size=1)}

    updated = client.live.scopes.update("sdk-landing", allow_new_generations=False)
    assert updated.allow_new_generations is False
    refused = httpx.get(client.live.url("sdk-landing", "a different prompt"))
    assert refused.status_code == 403

    regenerated = client.live.scopes.regenerate("sdk-landing")
    assert len(regenerated.regenerated) == 1 and not regenerated.failed
    assert regenerated.regenerated[0].image_id != images[0].image_id

    built = client.live.create_url(
        "sdk-landing", "a lighthouse at dusk", aspect_ratio="16:9", sign=False
    )
    mine = urlsplit(client.live.url("sdk-landing", "a lighthouse at dusk", aspect_ratio="16:9"))
    theirs = urlsplit(built.url)
    assert theirs.path == mine.path
    assert sorted(parse_qsl(theirs.query)) == sorted(parse_qsl(mine.query))

    assert client.live.scopes.delete_image("sdk-landing", images[0].id).deleted
    assert client.live.scopes.delete("sdk-landing").deleted
    with pytest.raises(NotFoundError) as caught:
        client.live.scopes.get("sdk-landing")
    assert caught.value.code == "SCOPE_NOT_FOUND"


def test_signed_live_urls(client: Banatie, sdk_server: SdkServer) -> None:
    settings = client.live.update_settings(rotate_signing_secret=True, require_signature=True)
    try:
        assert settings.signing_secret and settings.require_signature
        signer = Banatie(
            api_key=sdk_server.key,
            base_url=sdk_server.base_url,
            organization="default",
            project="main",
            live_signing_secret=settings.signing_secret,
        )
        signed = signer.live.url("sdk-signed", "a kite over the sea", expires_in=300, w=64)
        ok = httpx.get(signed)
        assert ok.status_code == 200, ok.text
        assert _size(ok.content)[0] == 64
        unsigned = httpx.get(signer.live.url("sdk-signed", "another kite", sign=False))
        assert unsigned.status_code == 403
        assert unsigned.json()["error"]["code"] == "SIGNATURE_REQUIRED"
        forged = httpx.get(signed.replace("kite", "kites"))
        assert forged.json()["error"]["code"] == "INVALID_SIGNATURE"
    finally:
        client.live.update_settings(require_signature=False)
    assert client.live.settings().require_signature is False


def test_usage_and_enhance(client: Banatie) -> None:
    before = client.usage()
    client.generations.create("a small cactus")
    after = client.usage()
    assert after.used == before.used + 1
    assert after.plan == "free" and after.limit == 100000
    assert after.storage_used_bytes > 0
    enhanced = client.enhance("ein roter Fuchs", template="photorealistic")
    assert enhanced.detected_language == "de"
    assert client.usage().used == after.used  # enhancing is never charged


def test_errors_per_code(client: Banatie, sdk_server: SdkServer) -> None:
    with pytest.raises(AuthenticationError) as bad_key:
        Banatie(api_key="bnt_not_a_key", base_url=sdk_server.base_url).usage()
    assert (bad_key.value.status, bad_key.value.code) == (401, "UNAUTHORIZED")

    with pytest.raises(ValidationError) as bad_ratio:
        client.generations.create("a fox", aspect_ratio="7:3")
    assert bad_ratio.value.status == 400
    assert "aspect" in bad_ratio.value.message.lower()
    with pytest.raises(ValidationError, match="@nobody-has-this"):
        client.generations.create("a portrait of @nobody-has-this")

    with pytest.raises(QuotaExceededError) as quota:
        Banatie(api_key=sdk_server.exhausted_key, base_url=sdk_server.base_url).generations.create(
            "anything"
        )
    # Retry-After is weeks away: raised at once, never waited for.
    assert quota.value.code == "QUOTA_EXCEEDED"
    assert quota.value.retry_after is not None and quota.value.retry_after > 60

    with pytest.raises(APIConnectionError):
        Banatie(api_key="bnt_x", base_url=f"http://127.0.0.1:{free_port()}", max_retries=1).usage()

    with pytest.raises(AuthenticationError):
        Banatie(api_key="", base_url=sdk_server.base_url)


def test_rate_limit_retried_after_retry_after(sdk_server: SdkServer) -> None:
    # The project's plan allows one generation-endpoint request per 3 seconds.
    patient = Banatie(api_key=sdk_server.throttled_key, base_url=sdk_server.base_url)
    impatient = Banatie(
        api_key=sdk_server.throttled_key, base_url=sdk_server.base_url, max_retries=0
    )
    patient.enhance("a first request uses the window")
    with pytest.raises(RateLimitError) as limited:
        impatient.enhance("refused at once")
    assert limited.value.status == 429
    assert limited.value.code == "RATE_LIMIT_EXCEEDED"
    assert limited.value.retry_after is not None and 1 <= limited.value.retry_after <= 3

    started = time.monotonic()
    answer = patient.enhance("waits for Retry-After, then succeeds")
    assert answer.original_prompt == "waits for Retry-After, then succeeds"
    assert time.monotonic() - started >= 0.9
