"""`banatie keys …` and `banatie plans …`: API keys and plans, straight on the database."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Final

import typer
from rich.table import Table

from banatie.cli.common import console, date, load_settings, run

keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
plans_app = typer.Typer(help="List plans and set their limits.", no_args_is_help=True)


KEY_FLAGS: Final = {
    "organizationSlug": "--org",
    "projectSlug": "--project",
    "expiresInDays": "--expires-in-days",
}


class KeyType(StrEnum):
    project = "project"
    master = "master"


@keys_app.command("create")
def keys_create(
    organization: Annotated[str, typer.Option("--org", help="organization slug")],
    project: Annotated[str | None, typer.Option("--project", help="project slug")] = None,
    key_type: Annotated[KeyType, typer.Option("--type")] = KeyType.project,
    name: Annotated[str | None, typer.Option(help="a label")] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(help="days until it expires (project keys: 90 by default)")
    ] = None,
) -> None:
    """Create a key (and its organization and project if missing); prints the secret once."""
    from banatie.accounts import cli_ops

    settings = load_settings()
    secret, record = run(
        cli_ops.create_key(settings, organization, project, key_type.value, name, expires_in_days),
        KEY_FLAGS,
    )
    expiry = f", expires {date(record.expires_at)} UTC" if record.expires_at else ", no expiry"
    console.print(
        f"{record.type} key {record.id[:SHORT_ID]} for {organization}/{project or '*'}{expiry}:",
        highlight=False,
    )
    typer.echo(secret)


SHORT_ID: Final = 8


@keys_app.command("list")
def keys_list(organization: Annotated[str, typer.Option("--org")]) -> None:
    """List an organization's keys (never their secrets); `keys revoke` takes the id shown."""
    from banatie.accounts import cli_ops

    rows = run(cli_ops.list_keys(load_settings(), organization))
    table = Table("id", "type", "project", "name", "prefix", "status", "last used")
    for index in (0, 4, 5):  # what `keys revoke` takes, and whether the key still works
        table.columns[index].no_wrap = True
    now = datetime.now(UTC)
    for key in rows:
        if key.revoked_at is not None:
            status = f"[red]revoked {date(key.revoked_at, '%Y-%m-%d')}[/]"
        elif key.expires_at is not None and key.expires_at <= now:
            status = f"[red]expired {date(key.expires_at, '%Y-%m-%d')}[/]"
        elif key.expires_at is not None:
            status = f"until {date(key.expires_at, '%Y-%m-%d')}"
        else:
            status = "no expiry"
        table.add_row(
            key.id[:SHORT_ID],
            key.type,
            key.project_slug or "",
            key.name or "",
            key.key_prefix,
            status,
            date(key.last_used_at),
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id, its first characters, or bnt_…")],
    organization: Annotated[str, typer.Option("--org")],
) -> None:
    """Revoke a key; requests with it are refused from now on."""
    from banatie.accounts import cli_ops

    key = run(cli_ops.revoke_key(load_settings(), organization, key_id))
    console.print(f"revoked {key.type} key {key.id} ({key.key_prefix}…)", highlight=False)


PLAN_FLAGS: Final = {
    "monthlyGenerations": "--monthly-generations",
    "storageMb": "--storage-mb",
}


@plans_app.command("list")
def plans_list() -> None:
    """List plans with the limits in force (the free plan's follow the BANATIE_FREE_* settings)."""
    from banatie.accounts import cli_ops

    table = Table("plan", "name", "generations/month", "rate limit", "storage MB")
    for plan, limits in run(cli_ops.list_plans(load_settings())):
        storage = None if limits.storage_bytes is None else limits.storage_bytes // 2**20
        table.add_row(
            plan.slug,
            plan.name,
            _limit(limits.monthly_generations, plan.monthly_generations),
            _limit(limits.rate_limit, plan.rate_limit),
            _limit(storage, plan.storage_mb),
        )
    console.print(table)
    console.print(
        "* from the BANATIE_FREE_MONTHLY_GENERATIONS, BANATIE_FREE_RATE_LIMIT and "
        "BANATIE_FREE_STORAGE_MB settings",
        highlight=False,
    )


@plans_app.command("set")
def plans_set(
    slug: str,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    monthly_generations: Annotated[int | None, typer.Option(help="empty: unlimited")] = None,
    rate_limit: Annotated[str | None, typer.Option(help="e.g. 60/minute; empty: none")] = None,
    storage_mb: Annotated[int | None, typer.Option(help="empty: unlimited")] = None,
) -> None:
    """Create or update a plan (a master key moves projects onto it)."""
    from banatie.accounts import cli_ops
    from banatie.quota import service as quota

    plan = cli_ops.in_session(
        load_settings(),
        lambda session: quota.upsert_plan(
            session,
            slug,
            name=name,
            monthly_generations=monthly_generations,
            rate_limit=rate_limit,
            storage_mb=storage_mb,
        ),
    )
    run(plan, PLAN_FLAGS)
    console.print(f"plan {slug} saved")


def _limit(effective: object, stored: object) -> str:
    """The limit in force; `*` marks one that comes from a setting, not the plan's row."""
    shown = "unlimited" if effective is None else str(effective)
    return f"{shown} *" if stored is None and effective is not None else shown
