"""The images feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import Conflict, NotFound


class ImageNotFound(NotFound, code="IMAGE_NOT_FOUND"): ...


class AliasConflict(Conflict, code="ALIAS_CONFLICT"):
    """Another request took the alias between the lookup and the write."""
