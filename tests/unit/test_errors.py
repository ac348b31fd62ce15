"""`errors.problem_of`: the one answer an error gets, whichever channel renders it."""

from __future__ import annotations

from sqlalchemy import exc as sa_errors

from banatie.errors import problem_of
from banatie.images.errors import ImageNotFound
from banatie.providers.errors import ContentBlocked, ProviderRateLimited
from banatie.storage.base import StorageUnavailable


def test_an_api_error_answers_its_own_code_and_status() -> None:
    problem = problem_of(ImageNotFound("image '@hero' not found"))
    assert (problem.status, problem.code) == (404, "IMAGE_NOT_FOUND")
    assert problem.message == "image '@hero' not found"


def test_a_provider_error_carries_retry_after_and_its_reason() -> None:
    limited = problem_of(ProviderRateLimited("the model is busy", retry_after=2.4))
    assert (limited.status, limited.code, limited.headers) == (
        503,
        "PROVIDER_ERROR",
        {"Retry-After": "2"},
    )
    blocked = problem_of(ContentBlocked("blocked", reason="SAFETY"))
    assert (blocked.status, blocked.code, blocked.details) == (
        422,
        "CONTENT_BLOCKED",
        {"reason": "SAFETY"},
    )


def test_a_dependency_down_is_a_503_and_anything_else_a_500() -> None:
    down = problem_of(sa_errors.OperationalError("SELECT 1", {}, Exception("refused")))
    assert (down.status, down.code, down.headers) == (
        503,
        "DATABASE_UNAVAILABLE",
        {"Retry-After": "5"},
    )
    assert problem_of(StorageUnavailable("s3 down")).code == "STORAGE_UNAVAILABLE"
    bug = problem_of(KeyError("oops"))
    assert (bug.status, bug.code, bug.message) == (500, "INTERNAL_ERROR", "internal error")
