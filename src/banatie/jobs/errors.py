from __future__ import annotations

from banatie.errors import NotFound


class BatchNotFound(NotFound):
    code = "BATCH_NOT_FOUND"
