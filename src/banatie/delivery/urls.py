"""The public URLs of images: `{cdn}/cdn/{org}/{project}/img/{id | @alias}`."""

from __future__ import annotations

from urllib.parse import quote


def image_path(org: str, project: str, ref: str) -> str:
    return f"/cdn/{quote(org)}/{quote(project)}/img/{quote(ref, safe='@')}"


def image_url(base_url: str, org: str, project: str, ref: str, query: str = "") -> str:
    url = base_url.rstrip("/") + image_path(org, project, ref)
    return f"{url}?{query}" if query else url


def storage_key(org: str, project: str, image_id: str) -> str:
    """Blob key of an original; its derived variants live under `{key}/v/…`."""
    return f"{org}/{project}/img/{image_id}"
