"""Fetching an image by URL for `upload_image`, guarded against SSRF (`banatie.ssrf`, checked
on every redirect hop and on the connected peer), a size cap, a timeout."""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

import anyio
import httpx

from banatie import ssrf
from banatie.errors import ValidationError

MAX_REDIRECTS = 5


def _filename(url: str) -> str | None:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name[:255] or None


async def fetch(
    url: str, *, max_bytes: int, allow_private: bool, timeout_seconds: float
) -> tuple[bytes, str | None]:
    """The body of `url` (following redirects) and a file name from its path; the whole
    fetch, a slow trickle included, ends after `timeout_seconds`."""
    try:
        with anyio.fail_after(timeout_seconds):
            return await _fetch(url, max_bytes=max_bytes, allow_private=allow_private)
    except TimeoutError as exc:
        raise ValidationError(
            f"url: fetching took longer than {timeout_seconds:g} s", details={"field": "url"}
        ) from exc


async def _fetch(url: str, *, max_bytes: int, allow_private: bool) -> tuple[bytes, str | None]:
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            await ssrf.check_url(url, allow_private=allow_private)
            try:
                async with client.stream("GET", url, headers={"Accept": "image/*"}) as response:
                    ssrf.check_peer(response, url, allow_private=allow_private)
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise ValidationError(
                            f"url: {url!r} answered HTTP {response.status_code}",
                            details={"field": "url"},
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise ValidationError(
                            f"url: the file is {declared} bytes; the limit is {max_bytes} bytes",
                            details={"field": "url"},
                        )
                    data = bytearray()
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) > max_bytes:
                            raise ValidationError(
                                f"url: the file is larger than {max_bytes} bytes, the limit",
                                details={"field": "url"},
                            )
                    return bytes(data), _filename(url)
            except httpx.HTTPError as exc:
                raise ValidationError(
                    f"url: fetching {url!r} failed ({type(exc).__name__})", details={"field": "url"}
                ) from exc
    raise ValidationError(f"url: more than {MAX_REDIRECTS} redirects", details={"field": "url"})
