"""The job queue feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import NotFound


class BatchNotFound(NotFound, code="BATCH_NOT_FOUND"): ...
