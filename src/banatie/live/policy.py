"""Who may make a live URL generate: a project's abuse policy and its settings.

Per request (before anything is claimed): the signature rule and the referrer allow-list (403).
Per client IP: a miss budget charged at most once per flight (signed URLs and the owner's IPs
skip it). The scope limit and the plan's limits are checked later, by the claim and the
ordinary pipeline.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db.base import utcnow
from banatie.db.transactions import unit_of_work
from banatie.errors import ValidationError
from banatie.live import repository
from banatie.live.client_ip import client_ip, is_in
from banatie.live.errors import IpRateLimited, ReferrerNotAllowed, SignatureRequired
from banatie.live.models import LiveSettings
from banatie.live.signing import live_path, verify
from banatie.live.state import ProjectRef
from banatie.quota.errors import RateLimitExceeded
from banatie.quota.rate_limit import RateLimitState, parse_rate
from banatie.runtime import Runtime


@dataclass(frozen=True)
class Policy:
    """A project's live settings with the server's defaults filled in."""

    allowed_referrers: tuple[str, ...]
    require_signature: bool
    signing_secret: str | None
    ip_rate_limit: str
    auto_create_scopes: bool
    default_allow_new_generations: bool
    default_new_generations_limit: int


def policy(row: LiveSettings | None, rt: Runtime) -> Policy:
    settings = rt.settings
    if row is None:
        return Policy(
            allowed_referrers=(),
            require_signature=False,
            signing_secret=None,
            ip_rate_limit=settings.live_ip_rate_limit,
            auto_create_scopes=True,
            default_allow_new_generations=True,
            default_new_generations_limit=settings.live_scope_generations_limit,
        )
    return Policy(
        allowed_referrers=tuple(row.allowed_referrers or ()),
        require_signature=row.require_signature,
        signing_secret=row.signing_secret,
        ip_rate_limit=row.ip_rate_limit or settings.live_ip_rate_limit,
        auto_create_scopes=row.auto_create_scopes,
        default_allow_new_generations=row.default_allow_new_generations,
        default_new_generations_limit=(
            row.default_new_generations_limit
            if row.default_new_generations_limit is not None
            else settings.live_scope_generations_limit
        ),
    )


async def project_policy(rt: Runtime, session: AsyncSession, project_id: str) -> Policy:
    return policy(await repository.get_settings(session, project_id), rt)


def normalize_domain(domain: str) -> str:
    value = domain.strip().lower()
    if "://" in value:
        try:
            value = urlsplit(value).hostname or ""
        except ValueError:  # e.g. "http://[::1": not a URL, so not a domain either
            return ""
    return value.removeprefix("*.").strip(".").split(":", 1)[0]


def referrer_allowed(referer: str | None, allowed: tuple[str, ...]) -> bool:
    """A domain admits itself and its subdomains. No Referer is refused: a hotlinker could
    always strip it (pages with `Referrer-Policy: no-referrer` cannot trigger generations)."""
    if not allowed:
        return True
    if not referer:
        return False
    try:
        host = (urlsplit(referer).hostname or "").rstrip(".")
    except ValueError:
        return False
    return bool(host) and any(
        host == domain or host.endswith("." + domain) for domain in allowed if domain
    )


@dataclass(frozen=True)
class Requester:
    ip: str
    signed: bool
    owner: bool = False  # from BANATIE_LIVE_OWNER_IPS: not limited per IP, like signed URLs

    def may_differ_from(self, refusal: IpRateLimited) -> bool:
        """Whether this requester could be answered otherwise than another's per-IP refusal."""
        return self.signed or self.owner or self.ip != refusal.client_ip


@dataclass(frozen=True)
class Visit:
    """What a miss arrives with, before the policy has looked at it."""

    query: list[tuple[str, str]]
    referer: str | None
    peer: str | None
    # Passed on by a trusted proxy: not this machine's own visitor, even from loopback.
    via_proxy: bool = False


async def admit(rt: Runtime, ref: ProjectRef, scope: str, visit: Visit) -> tuple[Policy, Requester]:
    """The project's policy and who asks, or 403 when the signature or referrer rule refuses."""
    async with unit_of_work(rt.sessionmaker) as session:
        rules = await project_policy(rt, session, ref.id)
    path = live_path(ref.organization_slug, ref.slug, scope)
    signed = verify(rules.signing_secret, path, visit.query)
    if rules.require_signature and not signed:
        raise SignatureRequired()
    if not signed and not referrer_allowed(visit.referer, rules.allowed_referrers):
        raise ReferrerNotAllowed(rules.allowed_referrers, visit.referer)
    ip = client_ip(visit.peer)
    owner = not visit.via_proxy and is_in(ip, rt.settings.resolved_live_owner_ips)
    return rules, Requester(ip, signed, owner=owner)


class Budget:
    """The client-IP miss budget of one flight, charged at most once: before a scope is
    created on first use (so anonymous requests cannot create scopes without limit), else
    once the flight holds the claim (so only requests that generate are counted)."""

    def __init__(self, rt: Runtime, project_id: str, rules: Policy, requester: Requester) -> None:
        self.rt, self.project_id, self.rules, self.requester = rt, project_id, rules, requester
        self.state: RateLimitState | None = None
        self.charged = False

    async def charge(self) -> None:
        if self.charged or self.requester.signed or self.requester.owner:
            return
        limit = self.rules.ip_rate_limit
        try:
            self.state = await self.rt.rate_limiter.hit(
                limit, "live-ip", f"{self.project_id}:{self.requester.ip}"
            )
        except RateLimitExceeded as exc:
            refusal = IpRateLimited(
                f"new live images from one client are limited to {limit}; retry in "
                f"{exc.headers.get('Retry-After', '?')} s (cached images are always served)",
                details={**(exc.details or {}), "limit": "client_ip"},
                headers=exc.headers,
            )
            refusal.client_ip = self.requester.ip
            raise refusal from exc
        self.charged = True


# -- the settings (the API) ------------------------------------------------------------------


async def get_settings(session: AsyncSession, project: Project) -> LiveSettings | None:
    """The project's own settings; None: it has none (every default applies)."""
    return await repository.get_settings(session, project.id)


async def update_settings(
    session: AsyncSession, project: Project, changes: dict[str, Any], *, rotate_secret: bool
) -> tuple[LiveSettings, str | None]:
    """Apply the given fields; returns the row and the new signing secret when one was made."""
    row = await repository.get_or_create_settings(session, project.id)
    if "allowed_referrers" in changes:
        given = changes["allowed_referrers"] or []
        domains = [normalize_domain(d) for d in given]
        bad = [raw for raw, d in zip(given, domains, strict=True) if not d or " " in d]
        if bad:
            raise ValidationError(
                f"allowedReferrers must be domain names like example.com (not {bad[0][:100]!r})",
                details={"field": "allowedReferrers"},
            )
        row.allowed_referrers = sorted(set(domains))
    if "ip_rate_limit" in changes:
        value = changes["ip_rate_limit"]
        if value is not None:
            parse_rate(value)
        row.ip_rate_limit = value
    for name in (
        "require_signature",
        "auto_create_scopes",
        "default_allow_new_generations",
        "default_new_generations_limit",
    ):
        if name in changes and (
            changes[name] is not None or name == "default_new_generations_limit"
        ):
            setattr(row, name, changes[name])
    secret = None
    if rotate_secret or (row.require_signature and row.signing_secret is None):
        secret = row.signing_secret = secrets.token_urlsafe(32)
    row.updated_at = utcnow()
    await session.flush()
    return row, secret
