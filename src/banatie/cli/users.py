"""`banatie users …`: console users, straight on the database."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from banatie.cli.common import console, load_settings, run

users_app = typer.Typer(
    help="Console users: create, list, set roles, reset links.", no_args_is_help=True
)


class Role(StrEnum):
    owner = "owner"
    member = "member"


@users_app.command("create")
def users_create(
    email: str,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="BANATIE_USER_PASSWORD",
            help="at least 10 characters (asked for when not given)",
        ),
    ],
    organization: Annotated[
        str | None,
        typer.Option(
            "--org", help="an existing organization (e.g. default); none: a new one, as sign-up"
        ),
    ] = None,
    role: Annotated[Role, typer.Option(help="the role in --org")] = Role.member,
) -> None:
    """Create a console user (the first user of an installation: `--org default --role owner`)."""
    from banatie.users import cli_ops

    where = run(cli_ops.create_user(load_settings(), email, password, organization, role.value))
    console.print(f"user {email.strip().lower()} created: {where}", highlight=False)


@users_app.command("list")
def users_list() -> None:
    """List console users and their organizations."""
    from banatie.users import cli_ops

    table = Table("email", "created", "organizations (role)")
    for row in run(cli_ops.list_users(load_settings())):
        table.add_row(row.email, row.created, ", ".join(row.organizations) or "none")
    console.print(table)


@users_app.command("set-role")
def users_set_role(
    email: str,
    organization: Annotated[str, typer.Option("--org", help="organization slug")],
    role: Annotated[Role, typer.Option()],
) -> None:
    """Give a user a role in an organization (adding them when they are not a member)."""
    from banatie.users import cli_ops

    run(cli_ops.set_role(load_settings(), email, organization, role.value))
    console.print(f"{email.strip().lower()} is {role.value} of {organization}", highlight=False)


@users_app.command("reset-link")
def users_reset_link(email: str) -> None:
    """Print a one-time password reset link (valid 1 hour; this server sends no mail)."""
    from banatie.users import cli_ops

    typer.echo(run(cli_ops.reset_link(load_settings(), email)))
