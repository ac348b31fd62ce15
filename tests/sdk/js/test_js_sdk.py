"""The JS/TS SDK (sdk/js): `npm test` (`node --test`, after a build) against the running server;
and `npm pack`'s tarball, installed in another folder, runs the README's example."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from tests.sdk.conftest import JS, SdkServer, npm, run, sdk_env


def test_npm_test(js_built: Path, sdk_server: SdkServer) -> None:
    output = run([npm(), "test"], js_built, sdk_env(sdk_server))
    assert "# fail 0" in output, output[-3000:]
    assert "# pass 0" not in output


def test_packed_tarball_runs_the_readme(js_app: Path, sdk_server: SdkServer) -> None:
    installed = js_app / "node_modules" / "@banatie" / "sdk"
    assert (installed / "dist" / "index.d.ts").exists()
    assert not (installed / "node_modules").exists()  # no runtime dependencies
    blocks = [
        token.content
        for token in MarkdownIt().parse((JS / "README.md").read_text())
        if token.type == "fence" and token.info.strip() in {"js", "javascript"}
    ]
    assert blocks, "the README has no JS example"
    (js_app / "readme.mjs").write_text(blocks[0])
    output = run(["node", "readme.mjs"], js_app, sdk_env(sdk_server))
    assert "/cdn/default/main/img/" in output
    assert "404 IMAGE_NOT_FOUND" in output
