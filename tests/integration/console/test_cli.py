"""`banatie users create | list | set-role | reset-link`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner, Result

from banatie.cli import app
from tests.integration.console.helpers import console_client, log_in, post_form

runner = CliRunner()


async def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    # In a thread: the commands run their own event loop (asyncio.run), as on a terminal.
    return await asyncio.to_thread(runner.invoke, app, list(args), env=env)


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANATIE_DATABASE_URL", database_url)
    monkeypatch.setenv("BANATIE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BANATIE_PUBLIC_BASE_URL", "http://testserver")
    monkeypatch.chdir(tmp_path)


async def test_users_commands(env: None, client: httpx.AsyncClient) -> None:
    made = await cli("keys", "create", "--org", "default", "--project", "main")
    assert made.exit_code == 0, made.output
    first = await cli(
        "users",
        "create",
        "root@example.com",
        "--org",
        "default",
        "--role",
        "owner",
        env={"BANATIE_USER_PASSWORD": "a long enough password"},
    )
    assert first.exit_code == 0, first.output
    assert "default (owner)" in first.output
    short = await cli("users", "create", "x@example.com", env={"BANATIE_USER_PASSWORD": "short"})
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    second = await cli(
        "users", "create", "pat@example.com", env={"BANATIE_USER_PASSWORD": "pat's password"}
    )
    assert second.exit_code == 0 and "pat (owner, new organization" in second.output

    promoted = await cli(
        "users", "set-role", "pat@example.com", "--org", "default", "--role", "member"
    )
    assert promoted.exit_code == 0, promoted.output
    last_owner = await cli(
        "users", "set-role", "root@example.com", "--org", "default", "--role", "member"
    )
    assert last_owner.exit_code == 1 and "at least one owner" in last_owner.output
    listed = await cli("users", "list", env={"COLUMNS": "200"})
    assert listed.exit_code == 0
    assert "root@example.com" in listed.output and "default (member)" in listed.output

    link = await cli("users", "reset-link", "root@example.com")
    assert link.exit_code == 0, link.output
    path = link.output.strip().removeprefix("http://testserver")
    assert path.startswith("/console/reset/")
    async with console_client(client) as browser:
        done = await post_form(browser, path, path, {"password": "the new root password"})
        assert done.status_code == 303
        assert (await browser.get("/console/default/main/keys")).status_code == 200
    async with console_client(client) as browser:
        relog = await log_in(browser, "root@example.com", "the new root password")
        assert relog.status_code == 303
    unknown = await cli("users", "reset-link", "nobody@example.com")
    assert unknown.exit_code == 1 and "no user" in unknown.output
