"""`banatie keys …` and `banatie plans …` on the same database the server uses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

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
