"""Rules for namespaces: a project's house styles, and what a generation inherits from one."""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.db import transactions
from banatie.db.base import new_id, utcnow
from banatie.db.paging import PageRequest
from banatie.delivery.state import Delivery
from banatie.errors import ValidationError
from banatie.images import repository as images
from banatie.images.aliases import is_uuid
from banatie.live.state import LiveState
from banatie.namespaces import repository
from banatie.namespaces.errors import NamespaceAlreadyExists, NamespaceNotFound
from banatie.namespaces.models import Namespace
from banatie.providers.capabilities import check_output
from banatie.providers.ports import TEMPLATES, ImageSynthesizer
from banatie.runtime import Runtime
from banatie.settings import Settings
from banatie.validation import check_meta

SLUG_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")  # as generation.request
# Fields that change what a namespace's images look like (name and meta do not).
STYLE_FIELDS: Final = (
    "style_prompt",
    "system_prompt",
    "negative_prompt",
    "style_images",
    "template",
    "aspect_ratio",
)


def normalize_slug(raw: str, field: str = "namespace") -> str:
    slug = raw.strip().lower().lstrip("@")
    if not SLUG_RE.fullmatch(slug):
        raise ValidationError(
            f"{field} {raw[:70]!r} is not a valid namespace slug: use a-z, 0-9, '-' and '_', "
            "starting with a letter or digit, at most 63 characters",
            details={"field": field},
        )
    return slug


async def list_namespaces(
    session: AsyncSession, project: Project, paging: PageRequest
) -> tuple[list[Namespace], int]:
    """A page of the project's namespaces, by slug, and how many in all."""
    return await repository.list_namespaces(session, project.id, paging)


async def get(session: AsyncSession, project: Project, slug: str) -> Namespace:
    namespace = await repository.get(session, project.id, slug.strip().lower().lstrip("@"))
    if namespace is None:
        raise NamespaceNotFound(
            f"namespace {slug[:70]!r} not found; create it with POST /api/v1/namespaces"
        )
    return namespace


async def find(session: AsyncSession, project: Project, slug: str | None) -> Namespace | None:
    """The namespace a request names (None when it names none); an unknown one is a 404."""
    if slug is None or not slug.strip():
        return None
    return await get(session, project, normalize_slug(slug))


async def _checked(
    settings: Settings,
    synthesizer: ImageSynthesizer,
    session: AsyncSession,
    project: Project,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """The given fields, validated and in canonical spelling."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if isinstance(value, str) and name != "name":
            value = value.strip() or None
        out[name] = value
    if out.get("name") is not None:
        out["name"] = out["name"].strip()
        if not out["name"]:
            raise ValidationError("name must not be empty", details={"field": "name"})
    template = out.get("template")
    if template is not None and template not in TEMPLATES:
        raise ValidationError(
            f"template {template!r} is not supported; use one of " + ", ".join(TEMPLATES),
            details={"field": "template"},
        )
    if out.get("aspect_ratio") is not None:
        out["aspect_ratio"], _ = check_output(await synthesizer.capabilities(), out["aspect_ratio"])
    if "style_images" in out:
        out["style_images"] = await _style_images(
            settings.max_reference_images, session, project, out["style_images"] or []
        )
    if "meta" in out:
        out["meta"] = check_meta(out["meta"], settings.max_meta_bytes)
    return out


async def _style_images(
    limit: int, session: AsyncSession, project: Project, given: list[str]
) -> list[str]:
    if len(given) > limit:
        raise ValidationError(
            f"{len(given)} styleImages given; at most {limit} are allowed",
            details={"field": "styleImages"},
        )
    tokens: list[str] = []
    for raw in given:
        token = raw.strip()
        if is_uuid(token):
            found = await images.get(session, project.id, token)
        else:
            token = "@" + token.lstrip("@")
            found = await images.get_by_alias(session, project.id, token)
        if found is None:
            raise ValidationError(
                f"styleImages: image {raw[:110]!r} not found in this project",
                details={"field": "styleImages", "reference": raw[:110]},
            )
        if token not in tokens:
            tokens.append(token)
    return tokens


async def create(
    rt: Runtime, session: AsyncSession, project: Project, slug: str, fields: dict[str, Any]
) -> Namespace:
    slug = normalize_slug(slug, "slug")
    values = await _checked(rt.settings, rt.synthesizer, session, project, fields)
    namespace = Namespace(
        id=new_id(),
        project_id=project.id,
        slug=slug,
        name=values.get("name") or slug,
        style_prompt=values.get("style_prompt"),
        system_prompt=values.get("system_prompt"),
        negative_prompt=values.get("negative_prompt"),
        style_images=values.get("style_images") or [],
        template=values.get("template"),
        aspect_ratio=values.get("aspect_ratio"),
        meta=values.get("meta") or {},
    )
    session.add(namespace)
    await transactions.flush_unique(
        session, NamespaceAlreadyExists(f"namespace {slug!r} already exists")
    )
    return namespace


async def update(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    namespace: Namespace,
    fields: dict[str, Any],
) -> Namespace:
    """Apply the given fields. A new style retires the namespace's cached live images, so its
    live URLs generate again in the new style; images already made keep their ids."""
    values = await _checked(rt.settings, rt.synthesizer, session, project, fields)
    if "name" in values and values["name"] is None:
        values["name"] = namespace.slug
    if "meta" in values and values["meta"] is None:
        values["meta"] = {}
    if "style_images" in values and values["style_images"] is None:
        values["style_images"] = []
    restyled = any(
        name in values and values[name] != getattr(namespace, name) for name in STYLE_FIELDS
    )
    for name, value in values.items():
        setattr(namespace, name, value)
    namespace.updated_at = utcnow()
    keys = await _retire_live(rt.delivery, session, project, namespace.slug) if restyled else []
    await session.flush()
    _forget(rt.live, rt.delivery, session, keys)
    return namespace


async def delete(rt: Runtime, session: AsyncSession, project: Project, namespace: Namespace) -> int:
    """The namespace goes; its images and generations stay, without one; its live URLs are
    forgotten (asked again, they answer that the namespace does not exist). Returns how many
    images were kept."""
    kept = await repository.release_members(session, project.id, namespace.slug)
    keys = await _retire_live(rt.delivery, session, project, namespace.slug)
    await session.delete(namespace)
    await session.flush()
    _forget(rt.live, rt.delivery, session, keys)
    return kept


async def _retire_live(
    delivery: Delivery, session: AsyncSession, project: Project, slug: str
) -> list[str]:
    """Detach the namespace's live entries and purge what the CDN holds of their URLs (live
    responses carry their image's Cache-Tag). Returns the cache keys to forget."""
    entries = await repository.detach_live_entries(session, project.id, slug)
    image_ids = [entry.image_id for entry in entries if entry.image_id]
    for image in await images.get_many(session, project.id, image_ids):
        await delivery.urls_changed(session, image, [image.id], "namespace restyled")
    return [entry.cache_key for entry in entries]


def _forget(live: LiveState, delivery: Delivery, session: AsyncSession, keys: list[str]) -> None:
    """Once the unit of work commits: this process stops serving the retired live images, and
    the outbox sends their purges."""

    async def forget() -> None:
        live.forget(*keys)
        if keys:
            delivery.outbox.wake()

    transactions.after_commit(session, forget)
