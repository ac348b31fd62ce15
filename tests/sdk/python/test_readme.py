"""The Python blocks of sdk/python/README.md run as written against a running server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from markdown_it import MarkdownIt

from tests.sdk.conftest import SdkServer

README = Path(__file__).resolve().parents[3] / "sdk" / "python" / "README.md"


def test_readme_python_blocks_run(sdk_server: SdkServer, tmp_path: Path) -> None:
    blocks = [
        token.content
        for token in MarkdownIt().parse(README.read_text())
        if token.type == "fence" and token.info.strip() == "python"
    ]
    assert blocks, "the README has no Python example"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANATIE_")}
    env.update(BANATIE_API_KEY=sdk_server.key, BANATIE_BASE_URL=sdk_server.base_url)
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(blocks)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{sdk_server.base_url.replace('127.0.0.1', 'localhost')}/cdn/")
    assert "True" in lines
    assert lines[-1].endswith("generations left this month")
