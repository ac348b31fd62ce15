"""API shapes of keys."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from banatie.schemas import CamelModel, RequestModel


class BootstrapRequest(RequestModel):
    organization_slug: str | None = None
    name: str | None = Field(default=None, max_length=200)


class KeyCreate(RequestModel):
    type: Literal["master", "project"] = "project"
    organization_slug: str | None = None
    project_slug: str | None = None
    name: str | None = Field(default=None, max_length=200)
    expires_in_days: int | None = None


class KeyOut(CamelModel):
    id: str
    type: str
    name: str | None
    key_prefix: str
    organization_slug: str
    project_slug: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedKeyOut(KeyOut):
    key: str = Field(description="the secret, shown only this once")
