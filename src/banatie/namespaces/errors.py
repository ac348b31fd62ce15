"""The namespaces feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import Conflict, NotFound


class NamespaceNotFound(NotFound, code="NAMESPACE_NOT_FOUND"): ...


class NamespaceAlreadyExists(Conflict, code="NAMESPACE_ALREADY_EXISTS"): ...
