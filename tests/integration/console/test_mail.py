"""With BANATIE_SMTP_HOST set, the reset form mails the link (to a local aiosmtpd server)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI

from banatie.app import create_app
from banatie.settings import Settings
from tests.e2e.conftest import free_port
from tests.integration.console.helpers import console_client, post_form, sign_up


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
async def mail_app(
    database_url: str, tmp_path: Path, inbox: tuple[Inbox, int]
) -> AsyncIterator[FastAPI]:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path / "var",
        database_url=database_url,
        public_base_url="http://testserver",
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
        smtp_security="none",
    )
    application = create_app(settings)
    yield application
    await application.state.runtime.close()


async def test_reset_link_is_mailed(mail_app: FastAPI, inbox: tuple[Inbox, int]) -> None:
    transport = httpx.ASGITransport(app=mail_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_up(client, "mia@example.com")
        async with console_client(client) as browser:
            sent = await post_form(
                browser, "/console/reset", "/console/reset", {"email": "MIA@example.com"}
            )
            assert sent.status_code == 200
            unknown = await post_form(
                browser, "/console/reset", "/console/reset", {"email": "nobody@example.com"}
            )
            assert unknown.status_code == 200
            for _ in range(100):
                if inbox[0].messages:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # a mail for the unknown address would have come by now
            assert len(inbox[0].messages) == 1
            message = inbox[0].messages[0]
            assert message["To"] == "mia@example.com"
            body = message.get_payload(decode=True)
            assert isinstance(body, bytes)
            link = re.search(r"http://testserver(/console/reset/\S+)", body.decode())
            assert link
            done = await post_form(
                browser, link.group(1), link.group(1), {"password": "mailed new password"}
            )
            assert done.status_code == 303
