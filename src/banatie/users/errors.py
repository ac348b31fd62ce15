"""The users feature's errors, each with its stable code."""

from __future__ import annotations

from banatie.errors import ApiError, Conflict, NotFound, Unauthorized


class LoginFailed(Unauthorized, code="INVALID_CREDENTIALS"): ...


class InvalidToken(ApiError, status=400, code="INVALID_TOKEN"):
    """A reset or invitation link that is used, expired, withdrawn or wrong."""


class EmailTaken(Conflict, code="EMAIL_TAKEN"): ...


class LastOwner(Conflict, code="LAST_OWNER"): ...


class ProjectExists(Conflict, code="PROJECT_EXISTS"): ...


class UserNotFound(NotFound, code="USER_NOT_FOUND"): ...


class MemberNotFound(NotFound, code="MEMBER_NOT_FOUND"): ...


class InvitationNotFound(NotFound, code="INVITATION_NOT_FOUND"): ...
