"""On an empty database, `banatie serve` creates an organization, a project and a project key,
so the very first command ends with a working curl example."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from banatie.accounts import repository, service
from banatie.db import locks
from banatie.db.engine import make_engine, make_sessionmaker
from banatie.db.transactions import unit_of_work
from banatie.settings import Settings


@dataclass(frozen=True)
class FirstRun:
    organization: str
    project: str
    key: str
    created_at: datetime
    expires_at: datetime | None


async def ensure_first_run(settings: Settings) -> FirstRun | None:
    engine = make_engine(settings.resolved_database_url)
    try:
        async with unit_of_work(make_sessionmaker(engine)) as session:
            # Replicas starting at once: one makes the key, the others then see it.
            await locks.hold_async(session, locks.FIRST_RUN)
            if await repository.count_keys(session) > 0:
                return None
            organization = await service.ensure_organization(
                session, settings.first_run_organization
            )
            spec = service.KeySpec("project", settings.first_run_project, "first-run key")
            issued = await service.issue_key(session, organization, spec)
    finally:
        await engine.dispose()
    if settings.first_run_key_file is not None:
        settings.first_run_key_file.parent.mkdir(parents=True, exist_ok=True)
        settings.first_run_key_file.write_text(issued.secret + "\n")
        settings.first_run_key_file.chmod(0o600)
    record = issued.record
    assert record.project is not None  # a project key
    return FirstRun(
        organization.slug, record.project.slug, issued.secret, record.created_at, record.expires_at
    )
