"""The errors of live URLs and live scopes, each with its stable code, defined once (with the
words that explain it, so every place that refuses says it the same way). Errors of other
features keep their own names: `images.errors.ImageNotFound`,
`generation.errors.GenerationInProgress`, `accounts.errors.ProjectNotFound`."""

from __future__ import annotations

from banatie.errors import ApiError, Conflict, Forbidden, NotFound
from banatie.quota.errors import RateLimitExceeded


class ScopeNotFound(NotFound, code="SCOPE_NOT_FOUND"):
    """No such scope in the project (or it was deleted while its image was made)."""


class ScopeAlreadyExists(Conflict, code="SCOPE_ALREADY_EXISTS"):
    def __init__(self, slug: str) -> None:
        super().__init__(f"live scope {slug!r} already exists")


class ScopeLimitExceeded(ApiError, status=429, code="SCOPE_LIMIT_EXCEEDED"):
    """The scope holds its newGenerationsLimit of images: a miss would add one more."""

    def __init__(self, slug: str, held: int, limit: int) -> None:
        super().__init__(
            f"live scope {slug!r} holds {held} images, its limit "
            f"(newGenerationsLimit={limit}); raise the limit or delete images",
            details={"limit": "scope", "scope": slug, "newGenerationsLimit": limit},
        )


class ScopeGenerationsDisabled(Forbidden, code="SCOPE_GENERATIONS_DISABLED"):
    def __init__(self, slug: str) -> None:
        super().__init__(
            f"live scope {slug!r} does not allow new generations (allowNewGenerations is "
            "false); cached images are still served"
        )


class ReferrerNotAllowed(Forbidden, code="REFERRER_NOT_ALLOWED"):
    """The page asking is not on the project's allowed referrer domains."""

    def __init__(self, allowed: tuple[str, ...], referer: str | None) -> None:
        super().__init__(
            "new images can only be requested from pages on "
            + ", ".join(allowed)
            + (" (this request sent no Referer)" if not referer else "")
        )


class SignatureRequired(Forbidden, code="SIGNATURE_REQUIRED"):
    default_message = (
        "this project accepts only signed live URLs for new images; sign it with the "
        "project's live signing secret (POST /api/v1/live/urls builds one)"
    )


class IpRateLimited(RateLimitExceeded):
    """The client IP's miss budget is spent. Specific to that IP: a request from another client
    that was waiting on this flight tries again under its own budget; one from the same IP gets
    this answer at once (its budget is the same)."""

    client_ip: str | None = None


class GenerationFailed(ApiError):
    """A generation another replica ran for this cache key failed; its error, replayed."""


class WaitTimeout(ApiError, status=504, code="LIVE_GENERATION_TIMEOUT"):
    """The image was not ready within BANATIE_LIVE_WAIT_TIMEOUT_SECONDS; worth a retry."""

    retry_after = "5"


class LiveImageNotGenerated(NotFound, code="LIVE_IMAGE_NOT_GENERATED"):
    """HEAD of a live URL whose image does not exist yet (HEAD never generates)."""

    default_message = (
        "this live image has not been generated yet; a GET generates it (HEAD never does)"
    )


class ShuttingDown(ApiError, status=503, code="UNAVAILABLE"):
    """The server stopped while a live image was being made; another replica (or a retry)
    answers."""

    default_message = "the server is shutting down"
