"""A namespace as the API shows it: the one place that turns a `Namespace` into a
`NamespaceOut`."""

from __future__ import annotations

from banatie.namespaces.models import Namespace
from banatie.namespaces.schemas import NamespaceOut


def present_namespace(namespace: Namespace) -> NamespaceOut:
    return NamespaceOut(
        id=namespace.id,
        slug=namespace.slug,
        name=namespace.name,
        style_prompt=namespace.style_prompt,
        system_prompt=namespace.system_prompt,
        style_images=list(namespace.style_images or []),
        negative_prompt=namespace.negative_prompt,
        template=namespace.template,
        aspect_ratio=namespace.aspect_ratio,
        meta=dict(namespace.meta or {}),
        created_at=namespace.created_at,
        updated_at=namespace.updated_at,
    )
