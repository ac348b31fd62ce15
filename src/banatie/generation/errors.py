"""The generation feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import Conflict, NotFound


class GenerationNotFound(NotFound):
    code = "GENERATION_NOT_FOUND"


class GenerationInProgress(Conflict):
    """Another request runs this generation (or its regeneration) right now."""

    code = "GENERATION_IN_PROGRESS"

    def __init__(self, message: str = "this generation is still running") -> None:
        super().__init__(message)
