"""Snippets that reproduce a generation or place an image, each runnable as printed.

The code reads the key from ``BANATIE_API_KEY`` (never prints one) and talks to this server's
public base URL. A generation's snippets repeat its request (prompt, aspect ratio, template, …)
without its alias, so running one never moves an alias away from the image it came from.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from dataclasses import dataclass
from string import Template
from typing import Any
from urllib.parse import quote, urlencode

from banatie.accounts.models import Project
from banatie.delivery import presets
from banatie.generation.schemas import GenerationOut
from banatie.images.schemas import ImageOut
from banatie.live.signing import live_path
from banatie.schemas import CamelModel
from banatie.settings import Settings

LIVE_SCOPE = "snippets"
_ALIAS = re.compile(r"(?:^|\s)(@[\w-]+)")


class Snippet(CamelModel):
    id: str
    title: str
    language: str
    code: str


@dataclass(frozen=True)
class Where:
    """Where the snippets point: the API's base URL, and the project's image URLs."""

    api_base: str
    images: presets.ImageHost


def where(settings: Settings, project: Project) -> Where:
    return Where(
        api_base=settings.public_base_url.rstrip("/"),
        images=presets.ImageHost.of(settings, project.organization.slug, project.slug),
    )


# --- a generation ---------------------------------------------------------------------------


def _request(generation: GenerationOut) -> dict[str, Any]:
    """The generation's request, as `POST /api/v1/generations` takes it (camelCase)."""
    body: dict[str, Any] = {"prompt": generation.original_prompt}
    if generation.aspect_ratio != "1:1":
        body["aspectRatio"] = generation.aspect_ratio
    for name, value in (
        ("imageSize", generation.image_size),
        ("template", generation.template),
        ("namespace", generation.namespace),
    ):
        if value is not None:
            body[name] = value
    if not generation.auto_enhance:
        body["autoEnhance"] = False
    mentioned = set(_ALIAS.findall(generation.original_prompt))
    explicit = [
        ref.alias or ref.id for ref in generation.referenced_images if ref.alias not in mentioned
    ]
    if explicit:
        body["referenceImages"] = explicit
    if mentioned and generation.flow_id:
        # @last, @first and flow aliases resolve inside the flow only.
        body["flowId"] = generation.flow_id
    return body


_PY_NAMES = {
    "aspectRatio": "aspect_ratio",
    "imageSize": "image_size",
    "autoEnhance": "auto_enhance",
    "referenceImages": "reference_images",
    "flowId": "flow_id",
}


def _py(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    return repr(value)


def _js(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def curl(where: Where, body: dict[str, Any]) -> str:
    payload = shlex.quote(json.dumps(body, ensure_ascii=False))
    return (
        f"curl -s -X POST {where.api_base}/api/v1/generations \\\n"
        '  -H "X-API-Key: $BANATIE_API_KEY" -H "Content-Type: application/json" \\\n'
        f"  -d {payload}"
    )


# What every SDK snippet starts with: the client, its key from the environment.
_PY_CLIENT = Template("""\
import os

from banatie_sdk import Banatie

client = Banatie(api_key=os.environ["BANATIE_API_KEY"], base_url=$base)
""")
_JS_CLIENT = Template("""\
import { Banatie } from "@banatie/sdk";

const client = new Banatie({ apiKey: process.env.BANATIE_API_KEY, baseUrl: $base });
""")


def _py_client(where: Where) -> str:
    return _PY_CLIENT.substitute(base=repr(where.api_base))


def _js_client(where: Where) -> str:
    return _JS_CLIENT.substitute(base=_js(where.api_base))


def python_sdk(where: Where, body: dict[str, Any]) -> str:
    args = [_py(body["prompt"])] + [
        f"{_PY_NAMES.get(name, name)}={_py(value)}"
        for name, value in body.items()
        if name != "prompt"
    ]
    call = ",\n    ".join(args)
    return (
        _py_client(where)
        + f"generation = client.generations.create(\n    {call},\n)\n"
        + "print(generation.output_image.storage_url)\n"
    )


def js_sdk(where: Where, body: dict[str, Any]) -> str:
    options = {name: value for name, value in body.items() if name != "prompt"}
    rest = f", {_js(options)}" if options else ""
    return (
        _js_client(where)
        + f"const generation = await client.generations.create({_js(body['prompt'])}{rest});\n"
        + "console.log(generation.outputImage.storageUrl);\n"
    )


def openai_sdk(where: Where, generation: GenerationOut) -> str:
    size = "auto"
    if generation.output_image is not None:
        size = f"{generation.output_image.width}x{generation.output_image.height}"
    return (
        "import os\n\n"
        "from openai import OpenAI\n\n"
        f"client = OpenAI(base_url={where.api_base + '/openai/v1'!r}, "
        'api_key=os.environ["BANATIE_API_KEY"])\n'
        f"result = client.images.generate(prompt={generation.original_prompt!r}, size={size!r})\n"
        "print(result.data[0].url)\n"
    )


def mcp_call(body: dict[str, Any]) -> str:
    """The `tools/call` message an agent sends to `/mcp` (it can be POSTed there as it is)."""
    arguments = dict(body)
    if "flowId" not in arguments:
        # REST starts a new flow when flowId is left out; MCP would continue the conversation's.
        arguments["newFlow"] = True
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "generate_image", "arguments": arguments},
    }
    return json.dumps(call, ensure_ascii=False, indent=2)


def live_url(where: Where, generation: GenerationOut) -> str:
    params = {"prompt": generation.original_prompt}
    if generation.aspect_ratio != "1:1":
        params["aspectRatio"] = generation.aspect_ratio
    if generation.template is not None:
        params["template"] = generation.template
    images = where.images
    path = live_path(images.org, images.project, LIVE_SCOPE)
    return f"{images.base_url}{path}?{urlencode(params, quote_via=quote)}"


def for_generation(where: Where, generation: GenerationOut) -> list[Snippet]:
    body = _request(generation)
    snippets = [
        Snippet(id="curl", title="cURL", language="bash", code=curl(where, body)),
        Snippet(id="python", title="Python SDK", language="python", code=python_sdk(where, body)),
        Snippet(id="javascript", title="JS SDK", language="javascript", code=js_sdk(where, body)),
        Snippet(
            id="openai", title="OpenAI SDK", language="python", code=openai_sdk(where, generation)
        ),
        Snippet(id="mcp", title="MCP tool call", language="json", code=mcp_call(body)),
        Snippet(id="live", title="Live URL", language="url", code=live_url(where, generation)),
    ]
    if generation.output_image is not None:
        snippets += html_snippets(where, generation.output_image)
    return snippets


# --- an image ---------------------------------------------------------------------------------


def _alt(image: ImageOut) -> str:
    return image.alt_text or image.description or "image"


def _srcset(where: Where, image: ImageOut, fmt: str) -> str:
    return presets.srcset(where.images, image.id, image.width, fmt=fmt)


def html_snippets(where: Where, image: ImageOut) -> list[Snippet]:
    sizes = f"(max-width: {image.width}px) 100vw, {image.width}px"
    common = (
        f'sizes="{sizes}" width="{image.width}" height="{image.height}" '
        f'alt="{html.escape(_alt(image))}" loading="lazy" decoding="async"'
    )
    img = (
        f'<img src="{html.escape(image.storage_url)}"\n'
        f'     srcset="{html.escape(image.srcset or "")}"\n'
        f"     {common}>"
    )
    picture = (
        "<picture>\n"
        f'  <source type="image/avif" srcset="{html.escape(_srcset(where, image, "avif"))}" '
        f'sizes="{sizes}">\n'
        f'  <source type="image/webp" srcset="{html.escape(_srcset(where, image, "webp"))}" '
        f'sizes="{sizes}">\n'
        f'  <img src="{html.escape(image.storage_url)}" {common}>\n'
        "</picture>"
    )
    return [
        Snippet(id="html", title="HTML <img>", language="html", code=img),
        Snippet(id="picture", title="HTML <picture>", language="html", code=picture),
    ]


def for_image(where: Where, image: ImageOut) -> list[Snippet]:
    ref = image.alias or image.id
    download = (
        f"curl -s -o image.{_extension(image)} {shlex.quote(image.storage_url)}\n"
        f"curl -s {where.api_base}/api/v1/images/{quote(ref, safe='@')} "
        '-H "X-API-Key: $BANATIE_API_KEY"'
    )
    python = (
        _py_client(where)
        + f"image = client.images.get({ref!r})\n"
        + 'client.images.download(image, "card.webp", w=640, h=360, mode="crop", format="webp")\n'
        + 'print(client.images.url(image, w=640, h=360, mode="crop", format="auto"))\n'
    )
    javascript = (
        _js_client(where)
        + f"const image = await client.images.get({_js(ref)});\n"
        + "const url = await client.images.url(image, "
        + '{ w: 640, h: 360, mode: "crop", format: "auto" });\n'
        + "console.log(url);\n"
    )
    return [
        Snippet(id="curl", title="cURL", language="bash", code=download),
        Snippet(id="python", title="Python SDK", language="python", code=python),
        Snippet(id="javascript", title="JS SDK", language="javascript", code=javascript),
        *html_snippets(where, image),
    ]


def _extension(image: ImageOut) -> str:
    return {"image/jpeg": "jpg", "image/webp": "webp"}.get(image.mime_type, "png")
