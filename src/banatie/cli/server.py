"""`banatie migrate | serve | doctor | gc | mcp`: running the server and looking after it."""

from __future__ import annotations

import asyncio
import logging.config
import os
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from banatie.cli.common import console, fail, load_settings, run
from banatie.db import migrate as migrations
from banatie.settings import Settings

if TYPE_CHECKING:
    from banatie.accounts.first_run import FirstRun


def migrate() -> None:
    """Create the database, or bring it up to date."""
    settings = load_settings()
    migrations.upgrade(settings.resolved_database_url)
    console.print(f"[green]database is up to date[/] ({_db_label(settings)})")


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
    from banatie import serving
    from banatie.accounts.first_run import ensure_first_run
    from banatie.observability.logs import logging_config

    settings = load_settings()
    cores = serving.cpu_count()
    workers = workers or cores
    # The workers read their settings from the environment (they start in fresh processes):
    # what `serve` decides goes there.
    if "cpu_workers" not in settings.model_fields_set:
        # The workers share the cores: libvips threads per process = cores / workers.
        settings.cpu_workers = serving.cpu_workers_per_process(workers, cores)
        os.environ["BANATIE_CPU_WORKERS"] = str(settings.cpu_workers)
    if "public_base_url" not in settings.model_fields_set:
        shown_host = "localhost" if host in ("0.0.0.0", "127.0.0.1", "::") else host
        settings.public_base_url = f"http://{shown_host}:{port}"
        os.environ["BANATIE_PUBLIC_BASE_URL"] = settings.public_base_url
    migrations.upgrade(settings.resolved_database_url)
    first = run(ensure_first_run(settings))
    if first is not None:
        _print_first_run(settings, first)
    processes = f"{workers} worker process{'es' if workers > 1 else ''}"
    # One handler for granian's, Banatie's and the libraries' lines: text or JSON, each line
    # with its request id, secrets scrubbed; banatie.access writes the access lines.
    log_config = logging_config(settings.log_format, settings.log_level, settings.secrets)
    if settings.log_format == "json":  # a log collector reads every line as JSON
        logging.config.dictConfig(log_config)
        logging.getLogger("banatie.serve").info(
            "Banatie on %s (%s, %s)", settings.public_base_url, _db_label(settings), processes
        )
    else:
        console.print(f"Banatie on {settings.public_base_url} ({_db_label(settings)}, {processes})")
    # This process has loaded the CLI, migrations and the first-run code: a fresh one, that
    # imports nothing of the app, supervises the workers (banatie.serving).
    # X-Forwarded-For is believed from BANATIE_TRUSTED_PROXIES only: each worker reads it
    # (banatie.serving.worker_app). SIGTERM: stop accepting, let requests in flight finish
    # within the shutdown timeout, then cancel them (the app's shutdown gives their work back).
    serving.exec_supervisor(
        {
            "workers": workers,
            "host": host,
            "port": port,
            "log_config": log_config,
            "shutdown_timeout": settings.shutdown_timeout_seconds,
        }
    )


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


def doctor(
    check_seconds: Annotated[
        float, typer.Option("--timeout", help="seconds each check may take")
    ] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the checks as JSON")] = False,
) -> None:
    """Say which adapters are active and whether each answers; exit 1 if one does not."""
    import json

    from banatie.doctor import diagnose

    checks = asyncio.run(diagnose(load_settings(), check_seconds=check_seconds))
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
    """Mark the work of stopped servers failed (INTERRUPTED), delete orphan blobs (no image row
    points at them) and what crashed writes and renders left; the server does all of it on its
    own, this runs it now."""
    from banatie.recovery import cli_ops

    settings = load_settings()
    age = settings.blob_gc_min_age_seconds if min_age is None else min_age
    swept, collected = run(cli_ops.collect(settings, min_age_seconds=age, dry_run=dry_run))
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
    console.print(
        f"{collected.leftovers} leftover(s) of interrupted writes removed; "
        f"{'would settle' if dry_run else 'settled'} {collected.variants_settled} variant row(s) "
        "of renders cut short",
        highlight=False,
    )


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
        fail("an API key is needed: --api-key bnt_… or BANATIE_API_KEY")
        return
    try:
        asyncio.run(serve(url, api_key))
    except UpstreamRefused as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        pass
