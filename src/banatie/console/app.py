"""Mounts the console on the app: its static files, then its pages (in this order: the static
path and the fixed paths before `/console/{org}/{project}`)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from banatie.console import auth_pages, images_pages, more_pages, org_pages, project_pages
from banatie.console.images_pages import GENERATE_PATH
from banatie.console.web import HERE

__all__ = ["GENERATE_PATH", "install"]


def install(app: FastAPI) -> None:
    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")
    for router in (
        auth_pages.router,
        images_pages.generate_router,
        org_pages.router,
        project_pages.router,
        images_pages.router,
        more_pages.router,
    ):
        app.include_router(router)
