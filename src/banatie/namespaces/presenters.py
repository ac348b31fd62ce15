"""A namespace as the API shows it: the one place that turns a `Namespace` into a
`NamespaceOut`."""

from __future__ import annotations

from banatie.namespaces.models import Namespace
from banatie.namespaces.schemas import NamespaceOut
from banatie.schemas import from_row


def present_namespace(namespace: Namespace) -> NamespaceOut:
    return from_row(
        NamespaceOut,
        namespace,
        style_images=list(namespace.style_images or []),
        meta=dict(namespace.meta or {}),
    )
