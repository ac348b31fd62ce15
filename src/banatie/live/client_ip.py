"""The client IP a live miss is counted against: the address the ASGI server reports.

That is the TCP peer, unless the peer is one of BANATIE_TRUSTED_PROXIES: then granian's proxy
headers wrapper (put around the app by `banatie serve`'s workers, see :func:`trusted_hosts`)
has put the client named by `X-Forwarded-For` there, read right to left past the trusted
proxies.
Nobody else's `X-Forwarded-For` is believed: anyone could write any address into it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache


def check_trusted_proxies(spec: str) -> str:
    """BANATIE_TRUSTED_PROXIES checked; a typo is an error at start, not a hole."""
    networks(",".join(p for p in spec.split(",") if p.strip() != "*"), "BANATIE_TRUSTED_PROXIES")
    return spec


def trusted_hosts(trusted_proxies: str) -> str | list[str]:
    """BANATIE_TRUSTED_PROXIES as granian's proxy-headers wrapper takes it: `*`, or the
    networks written out (granian would silently ignore a CIDR with host bits set, such as
    `10.0.0.1/8`); empty: nobody is trusted."""
    parts = [part.strip() for part in trusted_proxies.split(",") if part.strip()]
    if "*" in parts:
        return "*"
    return [str(network) for network in networks(",".join(parts), "BANATIE_TRUSTED_PROXIES")]


def client_ip(peer: str | None) -> str:
    """The client's address as a string ("unknown" when the server reports none)."""
    if not peer:
        return "unknown"
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def is_in(ip: str, spec: str) -> bool:
    """Whether the client address `ip` is one of the comma-separated IPs/CIDRs of `spec`."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(
        address.version == network.version and address in network
        for network in networks(spec, "BANATIE_LIVE_OWNER_IPS")
    )


@lru_cache(maxsize=16)
def networks(spec: str, setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The IPs/CIDRs of a comma-separated setting; a typo names the setting."""
    found = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"{setting}: {item!r} is not an IP or CIDR") from exc
    return tuple(found)


PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


def passed_on(headers: Mapping[str, str]) -> bool:
    """Whether a proxy passed the request on (it names a client): then its peer, even a
    loopback one, is the proxy and not the machine's own visitor."""
    return any(name in headers for name in PROXY_HEADERS)
