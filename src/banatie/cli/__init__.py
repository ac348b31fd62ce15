"""`banatie serve | worker | migrate | keys | plans | users | doctor | gc | mcp`: the operator's
entry points.

The commands live in :mod:`.server`, :mod:`.accounts` and :mod:`.users`; this module puts them
on one app (`python -m banatie.cli` runs it too, through `__main__.py`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from banatie.cli import server, worker
from banatie.cli.accounts import keys_app, plans_app
from banatie.cli.users import users_app

# An unexpected error still shows its traceback, but not every local variable of every frame.
app = typer.Typer(
    help="Banatie: prompt in, production-ready image out.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(keys_app, name="keys")
app.add_typer(plans_app, name="plans")
app.add_typer(users_app, name="users")
app.command()(server.migrate)
app.command()(server.serve)
app.command()(worker.worker)
app.command()(server.doctor)
app.command()(server.gc)
app.command("mcp")(server.mcp_stdio)


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
        # Through the environment, so that the worker processes see it too.
        os.environ["BANATIE_DATA_DIR"] = str(data_dir.resolve())


def main() -> None:  # pragma: no cover
    app()
