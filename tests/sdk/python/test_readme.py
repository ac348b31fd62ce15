"""`pip install ./sdk/python` in a clean virtual environment gives the SDK and only its
dependencies; there, the Python blocks of sdk/python/README.md run as written against a running
server."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from markdown_it import MarkdownIt

from banatie_sdk import __version__
from tests.sdk.conftest import ROOT, SdkServer, outside_env, run

README = ROOT / "sdk" / "python" / "README.md"
SERVER_PACKAGES = {"banatie", "fastapi", "sqlalchemy", "pyvips", "starlette", "mcp"}
SHOW = """
import importlib.metadata as metadata, json, pathlib, re, banatie_sdk
folder = pathlib.Path(banatie_sdk.__file__).parent
print(folder, (folder / "py.typed").exists(), banatie_sdk.__version__)
print(json.dumps(sorted(re.split(r"[<>=!~ ;\\[]", r)[0] for r in metadata.requires("banatie-sdk"))))
"""


def test_pip_install_in_a_clean_venv(clean_sdk_python: Path, tmp_path: Path) -> None:
    listed = json.loads(
        run([str(clean_sdk_python), "-m", "pip", "list", "--format=json"], tmp_path, outside_env())
    )
    names = {package["name"].lower() for package in listed}
    assert {"banatie-sdk", "httpx", "pydantic"} <= names
    assert not names & SERVER_PACKAGES
    shown = run([str(clean_sdk_python), "-c", SHOW], tmp_path, outside_env())
    where, requires = shown.splitlines()
    folder, typed, version = where.split()
    assert Path(folder).is_relative_to(clean_sdk_python.parents[1])  # installed, not the checkout
    assert typed == "True" and version == __version__
    assert json.loads(requires) == ["httpx", "pydantic"]


def test_readme_python_blocks_run(
    sdk_server: SdkServer, clean_sdk_python: Path, tmp_path: Path
) -> None:
    blocks = [
        token.content
        for token in MarkdownIt().parse(README.read_text())
        if token.type == "fence" and token.info.strip() == "python"
    ]
    assert blocks, "the README has no Python example"
    env = outside_env()
    env.update(BANATIE_API_KEY=sdk_server.key, BANATIE_BASE_URL=sdk_server.base_url)
    done = subprocess.run(
        [str(clean_sdk_python), "-c", "\n".join(blocks)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{sdk_server.base_url.replace('127.0.0.1', 'localhost')}/cdn/")
    assert lines.count("True") == 2  # the alias lookup and the flow's @last
    assert lines[-1].endswith("generations left this month")
