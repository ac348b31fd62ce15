"""The accounts feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import Conflict, NotFound


class OrganizationNotFound(NotFound, code="ORGANIZATION_NOT_FOUND"): ...


class ProjectNotFound(NotFound, code="PROJECT_NOT_FOUND"): ...


class KeyNotFound(NotFound, code="KEY_NOT_FOUND"): ...


class BootstrapDone(Conflict, code="BOOTSTRAP_DONE"): ...
