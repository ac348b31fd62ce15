"""The conversation's current flow, so "another one like the last, at night" continues it:
`generate_image`, `edit_image` and `upload_image` remember the flow they used, and the next
call without a `flowId` joins it (where `@last` is that flow's latest image)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from banatie.db import transactions
from banatie.db.base import utcnow
from banatie.mcp.calls import Call
from banatie.mcp.models import McpContext


async def current_flow(call: Call) -> str | None:
    row = await call.session.get(McpContext, (call.principal.key.id, call.tag))
    return row.flow_id if row is not None else None


async def remember_flow(call: Call, flow_id: str | None) -> None:
    """Best effort once the tool's work is committed: losing this would only cost continuity."""
    if flow_id is None:
        return
    await transactions.commit_early(
        call.session, why="the tool's work stands even if remembering its flow fails"
    )
    key = (call.principal.key.id, call.tag)
    for _ in range(2):  # a concurrent first call may insert the same row
        row = await call.session.get(McpContext, key, populate_existing=True)
        if row is None:
            row = McpContext(api_key_id=key[0], session=key[1])
            call.session.add(row)
        row.flow_id = flow_id
        row.updated_at = utcnow()
        try:
            await transactions.commit_early(call.session, why="the conversation's flow")
            return
        except IntegrityError:
            await transactions.abandon(call.session)
