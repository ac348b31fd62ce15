"""What `banatie users …` does, on the server's database (never creating one)."""

from __future__ import annotations

from dataclasses import dataclass

from banatie.accounts.cli_ops import open_session
from banatie.settings import Settings
from banatie.users import repository, resets, service


@dataclass(frozen=True)
class UserRow:
    email: str
    created: str
    organizations: list[str]  # "slug (role)"


async def create_user(
    settings: Settings, email: str, password: str, organization: str | None, role: str
) -> str:
    """Returns where the user belongs, e.g. `default (owner)`."""
    async with open_session(settings) as session:
        result = await service.create_user(
            session, email=email, password=password, organization_slug=organization, role=role
        )
        if isinstance(result, service.SignedUp):
            return f"{result.organization.slug} (owner, new organization with project main)"
        return f"{result.organization.slug} ({result.role})"


async def list_users(settings: Settings) -> list[UserRow]:
    async with open_session(settings) as session:
        rows = []
        for user in await repository.list_users(session):
            memberships = await repository.memberships_of_user(session, user.id)
            rows.append(
                UserRow(
                    email=user.email,
                    created=f"{user.created_at:%Y-%m-%d}",
                    organizations=[f"{m.organization.slug} ({m.role})" for m in memberships],
                )
            )
        return rows


async def set_role(settings: Settings, email: str, organization: str, role: str) -> None:
    async with open_session(settings) as session:
        await service.set_role(session, email=email, organization_slug=organization, role=role)


async def reset_link(settings: Settings, email: str) -> str:
    async with open_session(settings) as session:
        _, token = await resets.reset_link_token(session, email)
    return f"{settings.public_base_url.rstrip('/')}/console/reset/{token}"
