"""Every shell block of README.md works when pasted, in order, into one shell.

A real `banatie serve` runs on a free port with a fresh home (so the per-user default data dir
is fresh too), started from another folder than the reader's. The blocks run with bash, one
after another, sharing their variables as a reader's terminal would. Only what a reader must
fill in is substituted: the key the first run printed (`bnt_…`) and the port. curl runs with
`--fail-with-body`, so an HTTP error fails its block. A block that must not run here says why
in a `<!-- readme-test: skip (reason) -->` comment right above it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pyvips
from markdown_it import MarkdownIt

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
SHELLS = {"bash", "sh", "shell", "zsh"}
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
KEY_PLACEHOLDER = "bnt_…"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".avif"}
BLOCK_TIMEOUT = 180

# Saves the block's variables for the next block, as one terminal would keep them; readonly
# ones (bash's own) cannot be set again.
PRELUDE = """set -euo pipefail
__base=" $(compgen -v | tr '\\n' ' ') "
__save() {
  for __name in $(compgen -v); do
    case "$__name" in __*) continue ;; esac
    declare -p "$__name" 2>/dev/null | grep -v '^declare -[a-zA-Z]*r' || true
  done > @STATE@.next
}
trap __save EXIT
source @STATE@
"""


@dataclass(frozen=True)
class Block:
    line: int
    code: str
    skip: str | None


def shell_blocks(markdown: str) -> list[Block]:
    tokens = MarkdownIt().parse(markdown)
    blocks = []
    for index, token in enumerate(tokens):
        if token.type != "fence":
            continue
        language = token.info.strip().split(" ")[0].lower()
        line = token.map[0] + 1 if token.map else 0
        if language not in SHELLS:
            looks_like_shell = re.search(
                r"^\s*(curl|make|banatie|\.venv/bin/)", token.content, re.M
            )
            assert language or not looks_like_shell, (
                f"README.md:{line}: a fence without a language holds commands; mark it ```bash"
            )
            continue
        previous = tokens[index - 1] if index else None
        marker = (
            SKIP.search(previous.content) if previous and previous.type == "html_block" else None
        )
        blocks.append(Block(line, token.content, marker["reason"].strip() if marker else None))
    return blocks


@dataclass
class Reader:
    """The reader's shell: a folder next to the checkout's .venv, the server's environment."""

    folder: Path
    env: dict[str, str]
    state: Path

    def run(self, block: Block, code: str) -> subprocess.CompletedProcess[str]:
        script = self.folder.parent / "block.sh"
        script.write_text(PRELUDE.replace("@STATE@", shlex.quote(str(self.state))) + code)
        result = subprocess.run(
            ["bash", str(script)],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT,
        )
        if result.returncode == 0:
            Path(f"{self.state}.next").replace(self.state)
        return result


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment with no BANATIE_* setting but one worker, and a fresh home: the default
    data dir is new."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("BANATIE_", "XDG_", "CURL_")) and name != "GEMINI_API_KEY"
    }
    home = tmp_path / "home"
    home.mkdir()
    # --fail-with-body: an HTTP error fails the command (and the block) but still shows the body.
    (home / ".curlrc").write_text("fail-with-body\nshow-error\nmax-time = 120\n")
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", COLUMNS="120")
    # One server process (the default is one per core), so that a README step that changes an
    # image is seen by the next at once; several processes are tested in test_serve.py.
    env["BANATIE_WORKERS"] = "1"
    return env


@dataclass
class Served:
    port: int
    key: str


@pytest.fixture
def server(home: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "banatie.cli", "serve", "--port", str(port)],
            cwd=elsewhere,
            env=home,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "server exited:\n" + log.read_text()
            assert time.monotonic() < deadline, "server did not start:\n" + log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        printed = set(re.findall(r"bnt_[A-Za-z0-9_-]{43}", log.read_text()))
        assert len(printed) == 1, "the first run prints one key:\n" + log.read_text()
        yield Served(port, printed.pop())
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def envelopes(output: str) -> Iterator[dict[str, Any]]:
    """The API's JSON envelopes in a block's output (curl prints them back to back)."""
    decoder = json.JSONDecoder()
    position = 0
    while (start := output.find("{", position)) != -1:
        try:
            value, position = decoder.raw_decode(output, start)
        except json.JSONDecodeError:
            position = start + 1
            continue
        if isinstance(value, dict) and "success" in value:
            yield value


def test_every_shell_block_of_the_readme_works(
    server: Served, home: dict[str, str], tmp_path: Path
) -> None:
    for tool in ("bash", "curl", "jq"):
        assert shutil.which(tool, path=home["PATH"]), f"{tool} is missing (make install adds it)"
    blocks = shell_blocks(README.read_text())
    placeholders = [b.line for b in blocks if b.skip is None and KEY_PLACEHOLDER in b.code]
    assert len(placeholders) == 1, f"one block sets KEY={KEY_PLACEHOLDER}: {placeholders}"

    folder = tmp_path / "reader"
    folder.mkdir()
    venv = Path(sys.prefix)
    assert (venv / "bin" / "banatie").exists(), f"no banatie in {venv}: run make install"
    (folder / ".venv").symlink_to(venv)
    state = tmp_path / "state.sh"
    state.touch()
    reader = Reader(folder, home, state)

    ran = 0
    for block in blocks:
        where = f"README.md:{block.line}"
        if block.skip is not None:
            assert block.skip, f"{where}: say why the block is skipped"
            syntax = subprocess.run(
                ["bash", "-n"], input=block.code, capture_output=True, text=True
            )
            assert syntax.returncode == 0, f"{where}: {syntax.stderr}"
            continue
        unfilled = re.findall(r"<[A-Za-z][\w ./-]*>", block.code)
        assert not unfilled, f"{where}: capture values instead of placeholders {unfilled}"
        code = block.code.replace(KEY_PLACEHOLDER, server.key)
        code = re.sub(r"\b(localhost|127\.0\.0\.1):8000\b", rf"\g<1>:{server.port}", code)
        assert ":8000" not in code, f"{where}: the server is on localhost:8000"
        before = {path: path.stat().st_mtime_ns for path in folder.iterdir()}
        result = reader.run(block, code)
        report = f"{where} (exit {result.returncode})\n{block.code}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        assert result.returncode == 0, report
        assert result.stderr == "", report
        for envelope in envelopes(result.stdout):
            assert envelope["success"] is True, report
        for path in folder.iterdir():
            if path.is_dir() or before.get(path) == path.stat().st_mtime_ns:
                continue
            if path.suffix in IMAGE_SUFFIXES:
                image = pyvips.Image.new_from_file(str(path), access="sequential")
                assert image.width > 0 and image.avg() >= 0, f"{where}: {path.name}"
            elif path.suffix == ".json":
                assert json.loads(path.read_text())["success"] is True, f"{where}: {path.name}"
        ran += 1
    assert ran >= 5, f"only {ran} README blocks ran"
