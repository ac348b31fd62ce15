"""Building live URLs (and their `<img>`) without generating: `POST /api/v1/live/urls` and
the MCP tool `live_image_url` both call `build`."""

from __future__ import annotations

import html
import time
from urllib.parse import parse_qsl, quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from banatie.accounts.models import Project
from banatie.errors import ApiError
from banatie.live import signing
from banatie.live.cache_key import parse_live_request
from banatie.live.policy import project_policy
from banatie.live.schemas import LiveUrlOut, LiveUrlRequest
from banatie.runtime import Runtime


async def build(
    rt: Runtime, session: AsyncSession, project: Project, body: LiveUrlRequest
) -> LiveUrlOut:
    """The live URL of `body` (signed with the project's secret when it has one, or when
    `body.sign` asks), validated by the same rules as the live route itself."""
    params = {"prompt": body.prompt}
    for name, value in (
        ("aspectRatio", body.aspect_ratio),
        ("imageSize", body.image_size),
        ("template", body.template),
        ("namespace", body.namespace),
    ):
        if value is not None:
            params[name] = value
    if body.auto_enhance is not None:
        params["autoEnhance"] = "true" if body.auto_enhance else "false"
    live = parse_live_request(
        body.scope,
        params,
        capabilities=await rt.synthesizer.capabilities(),
        max_prompt_chars=rt.settings.max_prompt_chars,
    )
    query = dict(live.query())
    if body.transform:
        for name, value in parse_qsl(body.transform.lstrip("?"), keep_blank_values=True):
            query.setdefault(name, value)
    rules = await project_policy(rt, session, project.id)
    sign = body.sign if body.sign is not None else rules.signing_secret is not None
    if sign and rules.signing_secret is None:
        raise ApiError(
            "this project has no live signing secret; PUT /api/v1/live/settings with "
            '{"rotateSigningSecret": true} first',
            code="VALIDATION_ERROR",
        )
    path = signing.live_path(project.organization.slug, project.slug, live.scope)
    expires_at = int(time.time()) + body.expires_in_seconds if body.expires_in_seconds else None
    if sign:
        assert rules.signing_secret is not None
        query_string = signing.sign(rules.signing_secret, path, query, expires_at=expires_at)
    else:
        query_string = urlencode(query, quote_via=quote)
        expires_at = None
    url = f"{rt.settings.delivery_base_url}{path}?{query_string}"
    img = f'<img src="{html.escape(url)}" alt="{html.escape(live.prompt)}">'
    return LiveUrlOut(url=url, signed=sign, expires_at=expires_at, img_tag=img)
