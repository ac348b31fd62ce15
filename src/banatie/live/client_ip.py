"""The client IP a live miss is counted against.

`X-Forwarded-For` is believed only when the request comes from a proxy listed in
BANATIE_TRUSTED_PROXIES (IPs or CIDRs): the header is then read right to left, skipping the
trusted proxies, and the first other address is the client. Anyone else could write any address
into the header, so without trusted proxies the TCP peer is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_trusted(spec: str) -> tuple[Network, ...]:
    networks: list[Network] = []
    for item in filter(None, (part.strip() for part in spec.replace(";", ",").split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"BANATIE_TRUSTED_PROXIES: {item!r} is not an IP or CIDR") from exc
    return tuple(networks)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = value.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Sequence[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: str) -> str:
    """The client's address as a string ("unknown" when there is no peer at all)."""
    peer_address = _address(peer) if peer else None
    if peer_address is None:
        return peer or "unknown"
    nets = parse_trusted(trusted_proxies) if trusted_proxies else ()
    if not nets or not forwarded_for or not _trusted(peer_address, nets):
        return str(peer_address)
    candidate = peer_address
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            break  # garbage in the chain: stop at the last address we could trust
        candidate = address
        if not _trusted(address, nets):
            break
    return str(candidate)
