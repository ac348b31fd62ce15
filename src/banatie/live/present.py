"""Rows of live scopes, live images and live settings as the API shows them."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from banatie.accounts.models import Project
from banatie.images.models import Image
from banatie.images.presenters import present_image
from banatie.live.admin import ScopeView
from banatie.live.cache_key import LiveRequest
from banatie.live.models import LiveEntry, LiveSettings
from banatie.live.policy import policy
from banatie.live.schemas import LiveImageOut, LiveSettingsOut, ScopeOut
from banatie.live.signing import live_path
from banatie.runtime import Runtime
from banatie.schemas import from_row


def scope_url(rt: Runtime, project: Project, slug: str) -> str:
    return rt.settings.delivery_base_url + live_path(project.organization.slug, project.slug, slug)


def scope(rt: Runtime, project: Project, view: ScopeView) -> ScopeOut:
    row = view.scope
    return ScopeOut(
        slug=row.slug,
        allow_new_generations=row.allow_new_generations,
        new_generations_limit=row.new_generations_limit,
        current_generations=view.used,
        remaining_generations=max(0, row.new_generations_limit - view.used),
        last_generated_at=view.last_generated_at,
        live_url=scope_url(rt, project, row.slug),
        meta=dict(row.meta or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _entry_request(entry: LiveEntry, scope: str) -> LiveRequest:
    return LiveRequest(
        scope=scope,
        prompt=entry.prompt,
        aspect_ratio=entry.aspect_ratio,
        template=entry.template or "general",
        auto_enhance=entry.auto_enhance,
        namespace=entry.namespace,
        image_size=entry.image_size,
    )


def entry(
    rt: Runtime, project: Project, scope: str, row: LiveEntry, image: Image | None
) -> LiveImageOut:
    live = _entry_request(row, scope)
    return from_row(
        LiveImageOut,
        row,
        scope=scope,
        template=live.template,
        live_url=scope_url(rt, project, scope) + "?" + urlencode(live.query(), quote_via=quote),
        image=present_image(image, project, rt.settings) if image is not None else None,
    )


def settings(rt: Runtime, row: LiveSettings | None, secret: str | None = None) -> LiveSettingsOut:
    rules = policy(row, rt)
    return LiveSettingsOut(
        allowed_referrers=list(rules.allowed_referrers),
        require_signature=rules.require_signature,
        has_signing_secret=rules.signing_secret is not None,
        signing_secret=secret,
        ip_rate_limit=rules.ip_rate_limit,
        auto_create_scopes=rules.auto_create_scopes,
        default_allow_new_generations=rules.default_allow_new_generations,
        default_new_generations_limit=rules.default_new_generations_limit,
    )
