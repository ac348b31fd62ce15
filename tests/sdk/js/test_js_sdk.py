"""The JS/TS SDK (sdk/js): `npm test` (`node --test`, after a build) against the running server;
`npm pack`'s tarball, installed in another folder, runs the README's example; and its copies of
the server's signed parameter lists are the server's."""

from __future__ import annotations

import json
from pathlib import Path

from markdown_it import MarkdownIt

from banatie.delivery.signing import SIGNED_PARAMS
from banatie.live.signing import LIVE_PARAMS
from tests.sdk.conftest import JS, SdkServer, npm, run, sdk_env

READ_PARAMS = """
import { LIVE_PARAMS, TRANSFORM_PARAMS } from "./dist/signing.js";
import { VERSION } from "./dist/index.js";
const lists = { transform: [...TRANSFORM_PARAMS], live: [...LIVE_PARAMS], version: VERSION };
console.log(JSON.stringify(lists));
"""


def test_the_sdk_signs_exactly_the_parameters_the_server_signs(js_built: Path) -> None:
    """sdk/js/src/signing.ts copies the server's lists: a parameter added to (or dropped from)
    the server's must be added there too, or the URLs the SDK signs would not verify."""
    printed = run(["node", "--input-type=module", "-e", READ_PARAMS], js_built)
    lists = json.loads(printed)
    assert set(lists["transform"]) == SIGNED_PARAMS
    assert set(lists["live"]) == LIVE_PARAMS
    # The User-Agent's version is the package's.
    assert lists["version"] == json.loads((JS / "package.json").read_text())["version"]


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
    assert output.splitlines().count("true") == 2  # the alias lookup and the flow's @last
    assert "404 IMAGE_NOT_FOUND" in output
