"""`banatie serve | migrate | keys | plans | users | doctor | gc | mcp`: the operator's entry
points."""

from __future__ import annotations

import asyncio
import copy
import os
import re
from collections.abc import Coroutine, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar

import pydantic
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from banatie.db import migrate as migrations
from banatie.errors import ApiError
from banatie.settings import Settings

if TYPE_CHECKING:
    from banatie.accounts.first_run import FirstRun

T = TypeVar("T")

# An unexpected error still shows its traceback, but not every local variable of every frame.
app = typer.Typer(
    help="Banatie: prompt in, production-ready image out.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
plans_app = typer.Typer(help="List plans and set their limits.", no_args_is_help=True)
app.add_typer(plans_app, name="plans")
users_app = typer.Typer(
    help="Console users: create, list, set roles, reset links.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # unwrapped: a path in a message stays whole


@app.callback()
def main_options(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="the server's data directory (default: BANATIE_DATA_DIR, else "
            "~/.local/share/banatie)",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Options for every command: `banatie --data-dir DIR keys list …`."""
    if data_dir is not None:
        # Through the environment, so that uvicorn's worker processes see it too.
        os.environ["BANATIE_DATA_DIR"] = str(data_dir.resolve())


def _settings() -> Settings:
    """The server's configuration, as the server reads it (environment, then ./.env)."""
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            name = "BANATIE_" + "_".join(str(part) for part in error["loc"]).upper()
            errors.print(f"[red]error:[/] {name}: {error['msg']}", highlight=False)
        raise typer.Exit(1) from exc


def _where_hint(settings: Settings) -> str:
    if settings.is_postgres:
        return "The database is BANATIE_DATABASE_URL (from the environment or ./.env)."
    return (
        f"The data directory is {settings.data_dir.resolve()}: point to the server's with "
        "--data-dir or BANATIE_DATA_DIR, or create it with `banatie serve` (or `banatie migrate`)."
    )


def _fail(message: str) -> None:
    errors.print(f"[red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Create the database, or bring it up to date."""
    settings = _settings()
    migrations.upgrade(settings.resolved_database_url)
    console.print(f"[green]database is up to date[/] ({_db_label(settings)})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="port to listen on")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            envvar="BANATIE_WORKERS",
            help="worker processes (default: one per CPU core; each has its own in-memory "
            "caches, see docs/performance.md)",
            min=1,
            show_default=False,
        ),
    ] = None,
) -> None:
    """Migrate, make sure a first key exists, then serve the API, the CDN origin and the docs."""
    import uvicorn

    from banatie import serving
    from banatie.accounts.first_run import ensure_first_run
    from banatie.live.client_ip import uvicorn_proxy_options

    settings = _settings()
    cores = serving.cpu_count()
    workers = workers or cores
    if "cpu_workers" not in settings.model_fields_set:
        # The workers share the cores: libvips threads per process = cores / workers. Through
        # the environment, so that uvicorn's worker processes read it too.
        settings.cpu_workers = serving.cpu_workers_per_process(workers, cores)
        os.environ["BANATIE_CPU_WORKERS"] = str(settings.cpu_workers)
    if "public_base_url" not in settings.model_fields_set:
        shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
        settings.public_base_url = f"http://{shown_host}:{port}"
    migrations.upgrade(settings.resolved_database_url)
    first = _run(ensure_first_run(settings))
    if first is not None:
        _print_first_run(settings, first)
    from banatie.app import create_app

    processes = f"{workers} worker process{'es' if workers > 1 else ''}"
    console.print(f"Banatie on {settings.public_base_url} ({_db_label(settings)}, {processes})")
    # X-Forwarded-For is believed from BANATIE_TRUSTED_PROXIES only (banatie.live.client_ip).
    proxies = uvicorn_proxy_options(settings.trusted_proxies)
    # uvicorn's logging, plus Banatie's own INFO lines (e.g. which Gemini models were chosen).
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["banatie"] = {"handlers": ["default"], "level": "INFO"}
    if workers > 1:
        os.environ.setdefault("BANATIE_PUBLIC_BASE_URL", settings.public_base_url)
        uvicorn.run(
            "banatie.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=log_config,
            **proxies,
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=log_config, **proxies)


def _run(coroutine: Coroutine[Any, Any, T], flags: Mapping[str, str] | None = None) -> T:
    """Run a CLI operation; a refusal is a one-line message and exit code 1, not a traceback.
    `flags` maps the API's field names in a message to the command's options."""
    try:
        return asyncio.run(coroutine)
    except ApiError as exc:
        message = exc.message
        if flags:
            pattern = r"\b(" + "|".join(map(re.escape, flags)) + r")\b"
            message = re.sub(pattern, lambda match: flags[match.group(1)], message)
        _fail(message)
    except migrations.DatabaseNotReady as exc:  # admin commands never create a database
        _fail(f"{exc}.\n{_where_hint(_settings())}")
    except SQLAlchemyError as exc:
        _fail(f"the database refused: {migrations.error_reason(exc)}")
    raise AssertionError("unreachable")  # pragma: no cover - _fail raises


def _db_label(settings: Settings) -> str:
    return "PostgreSQL" if settings.is_postgres else f"SQLite in {settings.data_dir.resolve()}"


def _print_first_run(settings: Settings, first: FirstRun) -> None:
    base = settings.public_base_url
    expires = (
        f"It expires on {first.expires_at:%Y-%m-%d} "
        f"({(first.expires_at - first.created_at).days} days); make another with\n"
        f"  banatie keys create --org {first.organization} --project {first.project}\n"
        if first.expires_at
        else "It does not expire.\n"
    )
    console.print(
        f"\n[bold]First run:[/] created organization [cyan]{first.organization}[/] and project "
        f"[cyan]{first.project}[/].\nYour project API key (shown once, keep it):\n\n"
        f"  [bold green]{first.key}[/]\n\n{expires}\nTry it:\n\n"
        f"  curl -s -X POST {base}/api/v1/generations \\\n"
        f"    -H 'X-API-Key: {first.key}' -H 'Content-Type: application/json' \\\n"
        f'    -d \'{{"prompt": "a red fox in a snowy forest", "aspectRatio": "16:9"}}\'\n',
        highlight=False,
        soft_wrap=True,
    )


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

    settings = _settings()
    secret, record = _run(
        cli_ops.create_key(settings, organization, project, key_type.value, name, expires_in_days),
        KEY_FLAGS,
    )
    expiry = f", expires {_date(record.expires_at)} UTC" if record.expires_at else ", no expiry"
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

    rows = _run(cli_ops.list_keys(_settings(), organization))
    table = Table("id", "type", "project", "name", "prefix", "status", "last used")
    for index in (0, 4, 5):  # what `keys revoke` takes, and whether the key still works
        table.columns[index].no_wrap = True
    now = datetime.now(UTC)
    for key in rows:
        if key.revoked_at is not None:
            status = f"[red]revoked {_date(key.revoked_at, '%Y-%m-%d')}[/]"
        elif key.expires_at is not None and key.expires_at <= now:
            status = f"[red]expired {_date(key.expires_at, '%Y-%m-%d')}[/]"
        elif key.expires_at is not None:
            status = f"until {_date(key.expires_at, '%Y-%m-%d')}"
        else:
            status = "no expiry"
        table.add_row(
            key.id[:SHORT_ID],
            key.type,
            key.project_slug or "",
            key.name or "",
            key.key_prefix,
            status,
            _date(key.last_used_at),
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id, its first characters, or bnt_…")],
    organization: Annotated[str, typer.Option("--org")],
) -> None:
    """Revoke a key; requests with it are refused from now on."""
    from banatie.accounts import cli_ops

    key = _run(cli_ops.revoke_key(_settings(), organization, key_id))
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
    for plan, limits in _run(cli_ops.list_plans(_settings())):
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

    settings = _settings()
    _run(
        cli_ops.set_plan(settings, slug, name, monthly_generations, rate_limit, storage_mb),
        PLAN_FLAGS,
    )
    console.print(f"plan {slug} saved")


def _limit(effective: object, stored: object) -> str:
    """The limit in force; `*` marks one that comes from a setting, not the plan's row."""
    shown = "unlimited" if effective is None else str(effective)
    return f"{shown} *" if stored is None and effective is not None else shown


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

    where = _run(cli_ops.create_user(_settings(), email, password, organization, role.value))
    console.print(f"user {email.strip().lower()} created: {where}", highlight=False)


@users_app.command("list")
def users_list() -> None:
    """List console users and their organizations."""
    from banatie.users import cli_ops

    table = Table("email", "created", "organizations (role)")
    for row in _run(cli_ops.list_users(_settings())):
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

    _run(cli_ops.set_role(_settings(), email, organization, role.value))
    console.print(f"{email.strip().lower()} is {role.value} of {organization}", highlight=False)


@users_app.command("reset-link")
def users_reset_link(email: str) -> None:
    """Print a one-time password reset link (valid 1 hour; this server sends no mail)."""
    from banatie.users import cli_ops

    typer.echo(_run(cli_ops.reset_link(_settings(), email)))


@app.command()
def doctor(
    check_seconds: Annotated[
        float, typer.Option("--timeout", help="seconds each check may take")
    ] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the checks as JSON")] = False,
) -> None:
    """Say which adapters are active and whether each answers; exit 1 if one does not."""
    import json

    from banatie.doctor import diagnose

    checks = asyncio.run(diagnose(_settings(), check_seconds=check_seconds))
    failed = [check for check in checks if check.status == "fail"]
    if as_json:
        typer.echo(json.dumps({"ok": not failed, "checks": [c.as_dict() for c in checks]}))
    else:
        from rich.markup import escape

        colours = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        table = Table(title="banatie doctor")
        for column in ("component", "adapter", "details", "status", "answer"):
            table.add_column(column, overflow="fold")
        for check in checks:
            table.add_row(
                check.component,
                check.adapter,
                escape(check.detail),
                f"[{colours[check.status]}]{check.status}[/]",
                escape(check.message),
            )
        console.print(table)
        warned = sum(check.status == "warn" for check in checks)
        if failed:
            names = ", ".join(check.component for check in failed)
            console.print(f"[bold red]{len(failed)} check(s) failed:[/] {names}")
        else:
            console.print(
                f"[green]no failures[/] ({warned} warning(s))" if warned else "[green]all good[/]"
            )
    if failed:
        raise typer.Exit(code=1)


@app.command()
def gc(
    min_age: Annotated[
        float | None,
        typer.Option(
            "--min-age",
            help="seconds a blob must be old to be collected (default: "
            "BANATIE_BLOB_GC_MIN_AGE_SECONDS, 3600)",
            min=0,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count, delete nothing")] = False,
) -> None:
    """Mark the work of stopped servers failed (INTERRUPTED) and delete orphan blobs (no image
    row points at them); the server does both on its own, this runs them now."""
    from banatie.recovery import cli_ops

    settings = _settings()
    age = settings.blob_gc_min_age_seconds if min_age is None else min_age
    swept, collected = _run(cli_ops.collect(settings, min_age_seconds=age, dry_run=dry_run))
    if not dry_run:
        console.print(
            f"{swept.interrupted} interrupted generation(s) marked failed, "
            f"{swept.released_claims} live claim(s) given back",
            highlight=False,
        )
    verb = "would delete" if dry_run else "deleted"
    console.print(
        f"{collected.scanned} blob(s) scanned: {verb} {collected.deleted} orphan blob(s) "
        f"({collected.deleted_bytes} bytes) older than {age:g} s",
        highlight=False,
    )


@app.command("mcp")
def mcp_stdio(
    url: Annotated[
        str,
        typer.Option(envvar="BANATIE_URL", help="the Banatie server (its /mcp endpoint is used)"),
    ] = "http://localhost:8000",
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="BANATIE_API_KEY", help="a project key (bnt_…)"),
    ] = None,
) -> None:
    """Serve the MCP tools over stdio for clients that launch a command (docs/mcp.md); every
    call goes to the server at --url."""
    from banatie.mcp.stdio import UpstreamRefused, serve

    if not api_key:
        _fail("an API key is needed: --api-key bnt_… or BANATIE_API_KEY")
        return
    try:
        asyncio.run(serve(url, api_key))
    except UpstreamRefused as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        pass


def _date(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.strftime(pattern)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
