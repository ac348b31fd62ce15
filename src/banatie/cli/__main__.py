"""`python -m banatie.cli …`, as the `banatie` command."""

from banatie.cli import app

app()
