"""The generation feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import Conflict, NotFound


class GenerationNotFound(NotFound, code="GENERATION_NOT_FOUND"): ...


class GenerationInProgress(Conflict, code="GENERATION_IN_PROGRESS"):
    """Another request runs this generation (or its regeneration) right now."""

    default_message = "this generation is still running"
