"""Resolve the images a generation refers to: explicit `referenceImages`, then `@aliases` in
the prompt, de-duplicated. Aliases resolve flow-first (DESIGN.md §2): technical aliases
(`@last`, `@first`, `@upload`), the flow's own aliases, then project aliases."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.errors import ValidationError
from banatie.flows.models import Flow
from banatie.images import repository as images
from banatie.images.aliases import aliases_in_prompt, is_uuid
from banatie.images.models import Image
from banatie.namespaces.models import Namespace


@dataclass(frozen=True)
class Ref:
    """An image passed to the model: named by the request ("reference") or a namespace ("style")."""

    image: Image
    alias: str | None
    role: str = "reference"

    def record(self) -> dict[str, str | None]:
        return {"id": self.image.id, "alias": self.alias, "role": self.role}


# Technical aliases: the flow's first or latest image of a source.
FLOW_ALIASES = {"@last": "generated", "@first": "generated", "@upload": "uploaded"}


async def resolve_alias(
    session: AsyncSession, project_id: str, flow: Flow | None, alias: str
) -> Image | None:
    if flow is not None:
        if alias in FLOW_ALIASES:
            first, last = await images.first_and_last_in_flow(session, flow.id, FLOW_ALIASES[alias])
            return first if alias == "@first" else last
        image_id = (flow.aliases or {}).get(alias)
        if image_id:
            image = await images.get(session, project_id, image_id)
            if image is not None:
                return image
    return await images.get_by_alias(session, project_id, alias)


async def resolve_references(
    session: AsyncSession,
    project_id: str,
    flow: Flow | None,
    *,
    explicit: list[str],
    prompt: str,
    limit: int,
    namespace: Namespace | None = None,
) -> list[Ref]:
    """The request's references in order, then the namespace's style images (which count toward
    the same limit); unknown names are a 400."""
    resolved: list[Ref] = []
    seen: set[str] = set()
    for token in [*explicit, *aliases_in_prompt(prompt)]:
        token = token.strip()
        image: Image | None
        alias: str | None = None
        if is_uuid(token):
            image = await images.get(session, project_id, token)
            if image is None:
                raise ValidationError(
                    f"reference image {token} not found in this project",
                    details={"reference": token},
                )
        else:
            alias = "@" + token.lstrip("@")
            image = await resolve_alias(session, project_id, flow, alias)
            if image is None:
                raise ValidationError(_unresolved(alias, flow), details={"alias": alias})
        if image.id in seen:
            continue
        seen.add(image.id)
        resolved.append(Ref(image, alias))
    if len(resolved) > limit:
        raise ValidationError(
            f"{len(resolved)} reference images given; at most {limit} are allowed per generation"
        )
    if namespace is not None:
        resolved += await _style_images(session, project_id, namespace, seen, len(resolved), limit)
    return resolved


async def _style_images(
    session: AsyncSession,
    project_id: str,
    namespace: Namespace,
    seen: set[str],
    taken: int,
    limit: int,
) -> list[Ref]:
    style: list[Ref] = []
    for token in namespace.style_images or []:
        if is_uuid(token):
            image = await images.get(session, project_id, token)
        else:
            image = await images.get_by_alias(session, project_id, token)
        if image is None:
            raise ValidationError(
                f"style image {token} of namespace {namespace.slug!r} no longer exists; "
                f"PUT /api/v1/namespaces/{namespace.slug} with other styleImages",
                details={"namespace": namespace.slug, "styleImage": token},
            )
        if image.id in seen:  # already passed as a reference of the request
            continue
        seen.add(image.id)
        style.append(Ref(image, None if is_uuid(token) else token, "style"))
    if taken + len(style) > limit:
        raise ValidationError(
            f"{taken} reference images plus the {len(style)} style images of namespace "
            f"{namespace.slug!r} make {taken + len(style)}; at most {limit} are allowed "
            "per generation: name fewer references",
            details={"namespace": namespace.slug},
        )
    return style


def _unresolved(alias: str, flow: Flow | None) -> str:
    """Why an alias named no image; a flow's own alias needs a flow that has that image."""
    kind = FLOW_ALIASES.get(alias)
    if kind is None:
        return f"unknown alias {alias}: no image holds it"
    if flow is None:
        return f"{alias} refers to an image of a flow, and this generation has none (flowId null)"
    which = {"@last": "latest", "@first": "first", "@upload": "latest"}[alias]
    return (
        f"{alias} refers to the {which} {kind} image of flow {flow.id}, and it has no {kind} "
        "image yet (without a flowId a generation starts a new, empty flow: pass the flowId "
        "of an earlier generation)"
    )
