"""`banatie serve | migrate | keys | doctor`: the operator's entry points."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from banatie.db import migrate as migrations
from banatie.errors import ApiError
from banatie.settings import Settings

T = TypeVar("T")

app = typer.Typer(help="Banatie: prompt in, production-ready image out.", no_args_is_help=True)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
plans_app = typer.Typer(help="List plans and set their limits.", no_args_is_help=True)
app.add_typer(plans_app, name="plans")
console = Console()


@app.command()
def migrate() -> None:
    """Apply the database migrations."""
    settings = Settings()
    migrations.upgrade(settings.resolved_database_url)
    console.print(f"[green]database is up to date[/] ({_db_label(settings)})")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="port to listen on")] = 8000,
    workers: Annotated[
        int, typer.Option(envvar="BANATIE_WORKERS", help="worker processes", min=1)
    ] = 1,
) -> None:
    """Migrate, make sure a first key exists, then serve the API, the CDN origin and the docs."""
    import uvicorn

    from banatie.accounts.first_run import ensure_first_run
    from banatie.live.client_ip import uvicorn_proxy_options

    settings = Settings()
    if "public_base_url" not in settings.model_fields_set:
        shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
        settings.public_base_url = f"http://{shown_host}:{port}"
    migrations.upgrade(settings.resolved_database_url)
    first = _run(ensure_first_run(settings))
    if first is not None:
        _print_first_run(settings, first.organization, first.project, first.key)
    from banatie.app import create_app

    console.print(f"Banatie on {settings.public_base_url} ({_db_label(settings)})")
    # X-Forwarded-For is believed from BANATIE_TRUSTED_PROXIES only (banatie.live.client_ip).
    proxies = uvicorn_proxy_options(settings.trusted_proxies)
    # uvicorn's logging, plus Banatie's own INFO lines (e.g. which Gemini models were chosen).
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["banatie"] = {"handlers": ["default"], "level": "INFO"}
    if workers > 1:
        import os

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


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a CLI operation; a refusal is a one-line message and exit code 1, not a traceback."""
    try:
        return asyncio.run(coroutine)
    except ApiError as exc:
        console.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(1) from exc


def _db_label(settings: Settings) -> str:
    return "PostgreSQL" if settings.is_postgres else f"SQLite in {settings.data_dir}"


def _print_first_run(settings: Settings, org: str, project: str, key: str) -> None:
    base = settings.public_base_url
    console.print(
        f"\n[bold]First run:[/] created organization [cyan]{org}[/] and project "
        f"[cyan]{project}[/].\nYour project API key (shown once, keep it):\n\n"
        f"  [bold green]{key}[/]\n\nTry it:\n\n"
        f"  curl -s -X POST {base}/api/v1/generations \\\n"
        f"    -H 'X-API-Key: {key}' -H 'Content-Type: application/json' \\\n"
        f'    -d \'{{"prompt": "a red fox in a snowy forest", "aspectRatio": "16:9"}}\'\n',
        highlight=False,
        soft_wrap=True,
    )


@keys_app.command("create")
def keys_create(
    organization: Annotated[str, typer.Option("--org", help="organization slug")],
    project: Annotated[str | None, typer.Option("--project", help="project slug")] = None,
    key_type: Annotated[str, typer.Option("--type", help="master or project")] = "project",
    name: Annotated[str | None, typer.Option(help="a label")] = None,
    expires_in_days: Annotated[int | None, typer.Option(help="days until it expires")] = None,
) -> None:
    """Create a key (and its organization and project if missing); prints the secret once."""
    from banatie.accounts import cli_ops

    settings = Settings()
    migrations.upgrade(settings.resolved_database_url)
    secret, record = _run(
        cli_ops.create_key(settings, organization, project, key_type, name, expires_in_days)
    )
    console.print(f"{record.type} key {record.id} for {organization}/{project or '*'}:")
    typer.echo(secret)


@keys_app.command("list")
def keys_list(organization: Annotated[str, typer.Option("--org")]) -> None:
    """List an organization's keys (never their secrets)."""
    from banatie.accounts import cli_ops

    settings = Settings()
    rows = _run(cli_ops.list_keys(settings, organization))
    table = Table("id", "type", "project", "name", "prefix", "expires", "revoked", "last used")
    for key in rows:
        table.add_row(
            key.id,
            key.type,
            key.project_slug or "",
            key.name or "",
            key.key_prefix,
            _date(key.expires_at),
            _date(key.revoked_at),
            _date(key.last_used_at),
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, organization: Annotated[str, typer.Option("--org")]) -> None:
    """Revoke a key; requests with it are refused from now on."""
    from banatie.accounts import cli_ops

    _run(cli_ops.revoke_key(Settings(), organization, key_id))
    console.print(f"revoked {key_id}")


@plans_app.command("list")
def plans_list() -> None:
    """List plans; the free plan's empty limits follow the BANATIE_FREE_* settings."""
    from banatie.accounts import cli_ops

    settings = Settings()
    migrations.upgrade(settings.resolved_database_url)
    table = Table("plan", "name", "generations/month", "rate limit", "storage MB")
    for plan in _run(cli_ops.list_plans(settings)):
        table.add_row(
            plan.slug,
            plan.name,
            _limit(plan.monthly_generations),
            plan.rate_limit or "-",
            _limit(plan.storage_mb),
        )
    console.print(table)


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
    from banatie.quota.rate_limit import parse_rate

    if rate_limit:
        try:
            parse_rate(rate_limit)
        except ApiError as exc:
            console.print(f"[red]error:[/] {exc.message}")
            raise typer.Exit(1) from exc
    settings = Settings()
    migrations.upgrade(settings.resolved_database_url)
    _run(cli_ops.set_plan(settings, slug, name, monthly_generations, rate_limit, storage_mb))
    console.print(f"plan {slug} saved")


def _limit(value: int | None) -> str:
    return "-" if value is None else str(value)


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

    checks = asyncio.run(diagnose(Settings(), check_seconds=check_seconds))
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


def _date(value: object) -> str:
    return "" if value is None else str(value)[:19]


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
