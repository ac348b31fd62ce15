"""`banatie keys …` and `banatie plans …` on the same database the server uses."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from banatie.cli import app

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANATIE_DATABASE_URL", database_url)
    monkeypatch.setenv("BANATIE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_keys_create_list_revoke(env: None) -> None:
    created = runner.invoke(
        app, ["keys", "create", "--org", "acme", "--project", "blog", "--name", "ci"]
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("bnt_")
    master = runner.invoke(app, ["keys", "create", "--org", "acme", "--type", "master"])
    assert master.exit_code == 0, master.output

    listed = runner.invoke(app, ["keys", "list", "--org", "acme"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "blog" in listed.output and "master" in listed.output
    assert secret not in listed.output and secret[:12] in listed.output
    key_id = next(line.split()[1] for line in listed.output.splitlines() if "blog" in line)

    revoked = runner.invoke(app, ["keys", "revoke", key_id, "--org", "acme"])
    assert revoked.exit_code == 0, revoked.output
    again = runner.invoke(app, ["keys", "revoke", "nope", "--org", "acme"])
    assert again.exit_code != 0
    unknown_org = runner.invoke(app, ["keys", "list", "--org", "nobody"])
    assert unknown_org.exit_code != 0


def test_keys_create_refuses_bad_input(env: None) -> None:
    result = runner.invoke(app, ["keys", "create", "--org", "Bad Org", "--project", "x"])
    assert result.exit_code != 0


def test_plans(env: None) -> None:
    saved = runner.invoke(
        app,
        [
            "plans",
            "set",
            "pro",
            "--name",
            "Pro",
            "--monthly-generations",
            "5000",
            "--rate-limit",
            "60/minute",
        ],
    )
    assert saved.exit_code == 0, saved.output
    listed = runner.invoke(app, ["plans", "list"], env={"COLUMNS": "200"})
    assert "pro" in listed.output and "5000" in listed.output and "free" in listed.output
    bad = runner.invoke(app, ["plans", "set", "pro", "--rate-limit", "lots"])
    assert bad.exit_code != 0


# The first hour of a new user (issue 9, items 15 and 18).


@pytest.fixture
def server_data_dir(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir as `banatie serve` leaves it; the CLI runs from another folder, with no
    BANATIE_* variable and a home of its own (the per-user default data dir)."""
    data_dir = tmp_path / "server-data"
    data_dir.mkdir()
    shutil.copy(sqlite_template, data_dir / "banatie.db")
    for name in list(os.environ):
        if name.startswith("BANATIE_"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("BANATIE_DATA_DIR", raising=False)  # `--data-dir` sets it: undo after
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return data_dir


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.output.startswith("error: "), result.output
    return " ".join(result.output.split())


def test_admin_commands_never_create_a_database(server_data_dir: Path, tmp_path: Path) -> None:
    for command in (
        ["keys", "create", "--org", "acme", "--project", "blog"],
        ["keys", "list", "--org", "acme"],
        ["keys", "revoke", "abcd1234", "--org", "acme"],
        ["plans", "list"],
        ["plans", "set", "pro"],
    ):
        message = _one_line_error(runner.invoke(app, command))
        default = tmp_path / "home" / "data" / "banatie"
        assert f"no Banatie database at {default / 'banatie.db'}" in message
        assert "--data-dir or BANATIE_DATA_DIR" in message
    assert not (tmp_path / "home" / "data" / "banatie" / "banatie.db").exists()
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_the_cli_finds_the_servers_data_dir_from_anywhere(
    server_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = runner.invoke(
        app,
        ["--data-dir", str(server_data_dir), "keys", "create", "--org", "acme", "--project", "b"],
    )
    assert created.exit_code == 0, created.output
    assert "expires" in created.output
    # The same directory by the environment, and as the per-user default.
    monkeypatch.setenv("BANATIE_DATA_DIR", str(server_data_dir))
    listed = runner.invoke(app, ["keys", "list", "--org", "acme"])
    assert listed.exit_code == 0 and "bnt_" in listed.output, listed.output
    monkeypatch.delenv("BANATIE_DATA_DIR")
    default = tmp_path / "home" / "data" / "banatie"
    shutil.copytree(server_data_dir, default)
    listed = runner.invoke(app, ["keys", "list", "--org", "acme"])
    assert listed.exit_code == 0 and "bnt_" in listed.output, listed.output


def test_an_unreachable_or_empty_database_is_one_line(
    server_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANATIE_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    message = _one_line_error(runner.invoke(app, ["keys", "list", "--org", "acme"]))
    assert "cannot open the database" in message and "BANATIE_DATABASE_URL" in message
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "banatie.db").touch()  # a file that is no Banatie database
    monkeypatch.delenv("BANATIE_DATABASE_URL")
    message = _one_line_error(runner.invoke(app, ["--data-dir", str(empty), "plans", "list"]))
    assert "no Banatie tables" in message and str(empty) in message


def test_revoke_takes_the_id_keys_list_shows(env: None) -> None:
    first = runner.invoke(app, ["keys", "create", "--org", "acme", "--project", "blog"])
    second = runner.invoke(app, ["keys", "create", "--org", "acme", "--project", "shop"])
    assert first.exit_code == second.exit_code == 0
    listed = runner.invoke(app, ["keys", "list", "--org", "acme"], env={"COLUMNS": "80"})
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in listed.output.splitlines()]
    shown = {row[2]: row[0] for row in rows if len(row) > 3 and row[2] in ("blog", "shop")}
    assert set(shown) == {"blog", "shop"} and all(len(v) == 8 for v in shown.values())

    revoked = runner.invoke(app, ["keys", "revoke", shown["blog"], "--org", "acme"])
    assert revoked.exit_code == 0, revoked.output
    after = runner.invoke(app, ["keys", "list", "--org", "acme"], env={"COLUMNS": "120"})
    blog_line = next(line for line in after.output.splitlines() if "blog" in line)
    assert "revoked" in blog_line

    # The shown `bnt_…` prefix, or the whole secret, name a key too.
    shop_secret = second.output.strip().splitlines()[-1]
    by_prefix = runner.invoke(app, ["keys", "revoke", shop_secret[:12], "--org", "acme"])
    assert by_prefix.exit_code == 0 and shown["shop"] in by_prefix.output, by_prefix.output
    message = _one_line_error(runner.invoke(app, ["keys", "revoke", "bnt_", "--org", "acme"]))
    assert "matches 2 keys" in message
    assert "no key 'ffffffff'" in _one_line_error(
        runner.invoke(app, ["keys", "revoke", "ffffffff", "--org", "acme"])
    )


def test_errors_name_the_commands_flags(env: None) -> None:
    cases = {
        ("keys", "create", "--org", "Bad Org", "--project", "x"): "--org 'Bad Org'",
        ("keys", "create", "--org", "acme", "--project", "No!"): "--project 'No!'",
        ("keys", "create", "--org", "acme"): "a project key needs --project",
        ("keys", "create", "--org", "acme", "--project", "p", "--expires-in-days", "0"): (
            "--expires-in-days must be"
        ),
        ("plans", "set", "pro", "--monthly-generations", "-5"): "--monthly-generations must be 0",
        ("plans", "set", "pro", "--storage-mb", "-1"): "--storage-mb must be 0",
    }
    for command, expected in cases.items():
        message = _one_line_error(runner.invoke(app, list(command)))
        assert expected in message, message
        assert not any(word in message for word in ("Slug", "InDays", "monthlyGen", "storageMb"))


def test_plans_list_shows_the_limits_in_force(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANATIE_FREE_MONTHLY_GENERATIONS", "7")
    assert runner.invoke(app, ["plans", "set", "pro", "--rate-limit", "60/minute"]).exit_code == 0
    listed = runner.invoke(app, ["plans", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[1]: line for line in listed.output.splitlines() if "│" in line}
    assert "7 *" in rows["free"] and "10/minute *" in rows["free"] and "1024 *" in rows["free"]
    assert rows["pro"].count("unlimited") == 2 and "60/minute" in rows["pro"]
    assert "BANATIE_FREE_MONTHLY_GENERATIONS" in listed.output


def test_negative_free_limits_are_refused(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANATIE_FREE_MONTHLY_GENERATIONS", "-1")
    message = _one_line_error(runner.invoke(app, ["plans", "list"]))
    assert "BANATIE_FREE_MONTHLY_GENERATIONS" in message
