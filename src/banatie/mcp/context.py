"""The conversation's current flow, so "another one like the last, at night" continues it:
`generate_image`, `edit_image` and `upload_image` remember the flow they used, and the next
call without a `flowId` joins it (where `@last` is that flow's latest image)."""

from __future__ import annotations

import logging

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from banatie.db import transactions
from banatie.db.base import utcnow
from banatie.mcp.calls import Call
from banatie.mcp.models import McpContext

log = logging.getLogger(__name__)


async def current_flow(call: Call) -> str | None:
    row = await call.session.get(McpContext, (call.principal.key.id, call.tag))
    return row.flow_id if row is not None else None


async def remember_flow(call: Call, flow_id: str | None) -> None:
    """Commit the tool's work, then remember its flow: best effort, as losing this would only
    cost continuity. One upsert in a transaction of its own, so two first calls of a
    conversation at once cannot collide, and a failure here never touches the tool's work (nor
    expires what it loaded)."""
    await transactions.commit_early(
        call.session, why="the tool's work stands even if remembering its flow fails"
    )
    if flow_id is None:
        return
    now = utcnow()
    try:
        async with transactions.separate_transaction(
            call.rt.sessionmaker, why="the conversation's current flow"
        ) as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            statement = dialect.insert(McpContext).values(
                api_key_id=call.principal.key.id, session=call.tag, flow_id=flow_id, updated_at=now
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[McpContext.api_key_id, McpContext.session],
                    set_={"flow_id": flow_id, "updated_at": now},
                )
            )
    except SQLAlchemyError:
        log.warning("could not remember the conversation's flow %s", flow_id, exc_info=True)
