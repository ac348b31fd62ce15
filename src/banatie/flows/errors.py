"""The flows feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import NotFound


class FlowNotFound(NotFound, code="FLOW_NOT_FOUND"): ...


class FlowAliasNotFound(NotFound, code="FLOW_ALIAS_NOT_FOUND"): ...
