"""The Dockerfile: hadolint finds nothing, the stages are what deploy/README.md promises, and
every runtime dependency installs on the slim Debian base without apt or a compiler."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.tools import ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"
# glibc of the base image's Debian release (python:*-slim-bookworm: Debian 12, glibc 2.36).
BASE_GLIBC = (2, 36)
# Shared libraries Debian's slim image has (libc6, libgcc-s1, libstdc++6: apt needs them).
BASE_LIBRARIES = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "libresolv.so.2",
    "librt.so.1",
    "ld-linux-x86-64.so.2",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libz.so.1",
}


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_stages(text: str) -> list[Stage]:
    """Instructions per stage (continuation lines joined, comments dropped)."""
    logical = re.sub(r"\\\n", " ", text)
    stages: list[Stage] = []
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, " ".join(args.split())))
    return stages


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [str(tool("hadolint")), "--failure-threshold", "style", "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_slim_non_root_with_a_healthcheck() -> None:
    build, runtime = parse_stages(DOCKERFILE.read_text())
    assert "slim-bookworm" in build.base and "slim-bookworm" in runtime.base
    assert runtime.args("COPY") == [f"--from={build.name} /opt/banatie /opt/banatie"]
    # Nothing is installed in the final stage: the virtualenv is copied whole.
    assert not any("pip install" in run or "apt-get" in run for run in runtime.args("RUN"))
    (user,) = runtime.args("USER")
    assert user.split(":")[0] not in ("0", "root")
    (healthcheck,) = runtime.args("HEALTHCHECK")
    assert "/health" in healthcheck and "os.environ.get('PORT'" in healthcheck
    (cmd,) = runtime.args("CMD")
    assert cmd == '["banatie", "serve", "--host", "0.0.0.0"]'
    env = " ".join(runtime.args("ENV"))
    assert "PORT=8000" in env and "BANATIE_WORKERS=1" in env


def test_dockerignore_lets_in_what_the_build_copies_only() -> None:
    patterns = (ROOT / ".dockerignore").read_text().split()
    assert patterns[patterns.index("*") :][0] == "*"  # everything out, then what COPY needs
    build = parse_stages(DOCKERFILE.read_text())[0]
    copied = {src for args in build.args("COPY") for src in args.split()[:-1]}
    assert copied == {"pyproject.toml", "README.md", "src"}
    for source in copied:
        assert f"!{source}" in patterns or f"!{source}/" in patterns, source


def _runtime_distributions() -> set[str]:
    """Banatie's install requirements, followed recursively with the extras each one asks for."""
    names: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    pending: list[tuple[str, frozenset[str]]] = [("banatie", frozenset())]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in visited:
            continue
        visited.add((name, extras))
        names.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in extras | {""}
            ):
                pending.append((canonicalize_name(requirement.name), frozenset(requirement.extras)))
    names.discard("banatie")
    return names


LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _glibc_needed(tag: str) -> tuple[int, int] | None:
    """The glibc a wheel tag's platform needs; (0, 0) for pure Python; None if not Linux x86-64."""
    platform = tag.rsplit("-", 1)[-1]
    if platform == "any":
        return (0, 0)
    legacy = platform.removesuffix("_x86_64")
    if legacy in LEGACY_MANYLINUX and platform.endswith("_x86_64"):
        return LEGACY_MANYLINUX[legacy]
    found = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", platform)
    return (int(found[1]), int(found[2])) if found else None


def test_every_runtime_dependency_installs_on_the_slim_base() -> None:
    # Compiled ones come as manylinux wheels for the base's glibc; anything built here from a
    # source archive must be pure Python (tag py3-none-any), as the image has no compiler.
    dependencies = _runtime_distributions()
    assert {"pyvips-binary", "psycopg-binary", "uvloop", "numpy"} <= dependencies
    for name in sorted(dependencies):
        wheel = metadata.distribution(name).read_text("WHEEL") or ""
        tags = [
            line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")
        ]
        assert tags, f"{name} was not installed from a wheel"
        needs = [glibc for glibc in map(_glibc_needed, tags) if glibc is not None]
        assert needs and min(needs) <= BASE_GLIBC, f"{name}: {tags}"


def test_libvips_needs_nothing_beyond_the_slim_base() -> None:
    files = metadata.files("pyvips-binary") or []
    libraries = [Path(str(f.locate())) for f in files if ".so" in f.name]
    assert any("libvips" in lib.name for lib in libraries)
    bundled = {lib.name for lib in libraries}
    for library in libraries:
        dynamic = subprocess.run(
            ["readelf", "-d", str(library)], capture_output=True, text=True, check=True
        ).stdout
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic))
        assert needed - bundled <= BASE_LIBRARIES, (
            f"{library.name}: {needed - bundled - BASE_LIBRARIES}"
        )
