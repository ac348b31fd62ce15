"""Fetching an image by URL for `upload_image`, guarded against SSRF: only http(s), only
public addresses (checked on every redirect hop, and again on the connected peer so a DNS
answer that changes between the check and the connection is caught), a size cap, a timeout."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import unquote, urljoin, urlsplit

import anyio
import httpx

from banatie.errors import ValidationError

MAX_REDIRECTS = 5
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _refused(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _check_address(address: str, url: str) -> None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as exc:
        raise ValidationError(f"url: cannot tell where {url!r} points ({address})") from exc
    if _refused(ip):
        raise ValidationError(
            f"url: {url!r} points at a private, loopback or reserved address ({ip}); "
            "the server fetches only public addresses",
            details={"field": "url"},
        )


async def _check_host(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("url must be an http:// or https:// URL", details={"field": "url"})
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await anyio.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ValidationError(
            f"url: cannot resolve {parts.hostname!r}", details={"field": "url"}
        ) from exc
    for info in infos:
        _check_address(str(info[4][0]), url)


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
            if not allow_private:
                await _check_host(url)
            try:
                async with client.stream("GET", url, headers={"Accept": "image/*"}) as response:
                    if not allow_private:
                        stream = response.extensions.get("network_stream")
                        peer = stream.get_extra_info("server_addr") if stream is not None else None
                        if peer:
                            _check_address(str(peer[0]), url)
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
