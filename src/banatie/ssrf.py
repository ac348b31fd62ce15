"""Requests the server makes to URLs its users give (MCP `upload_image` by URL, webhook
targets), guarded against SSRF: only http(s), only public addresses — private, loopback,
link-local, carrier-grade NAT and reserved ones are refused unless
`BANATIE_FETCH_PRIVATE_URLS` allows them (a trusted, private deployment). A caller checks the
URL before connecting (`check_url`) and the connected peer after (`check_peer`), so a DNS answer
that changes between the check and the connection is caught; callers never follow redirects
blindly."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import anyio
import httpx

from banatie.errors import ValidationError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlNotAllowed(ValidationError, code="URL_NOT_ALLOWED"):
    """A URL the server will not call: not http(s), or an address it must not reach."""


def _refused(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_address(address: str, url: str, *, field: str = "url") -> None:
    """Refuse `address` (what `url`'s host resolved or connected to) unless it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as exc:
        raise UrlNotAllowed(
            f"{field}: cannot tell where {url!r} points ({address})", details={"field": field}
        ) from exc
    if _refused(ip):
        raise UrlNotAllowed(
            f"{field}: {url!r} points at a private, loopback or reserved address ({ip}); "
            "the server calls only public addresses",
            details={"field": field},
        )


def check_scheme(url: str, *, field: str = "url") -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlNotAllowed(f"{field} must be an http:// or https:// URL", details={"field": field})


async def check_url(url: str, *, allow_private: bool, field: str = "url") -> None:
    """An http(s) URL whose host resolves only to public addresses (any, with `allow_private`)."""
    check_scheme(url, field=field)
    if allow_private:
        return
    parts = urlsplit(url)
    assert parts.hostname is not None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await anyio.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UrlNotAllowed(
            f"{field}: cannot resolve {parts.hostname!r}", details={"field": field}
        ) from exc
    for info in infos:
        check_address(str(info[4][0]), url, field=field)


def check_peer(
    response: httpx.Response, url: str, *, allow_private: bool, field: str = "url"
) -> None:
    """The address a streamed `response` actually came from must pass as well."""
    if allow_private:
        return
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer:
        check_address(str(peer[0]), url, field=field)
