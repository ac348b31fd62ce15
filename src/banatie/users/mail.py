"""Mail to console users (password reset links) over SMTP, when BANATIE_SMTP_HOST is set.
The standard library's client runs in a thread: a slow mail server never blocks the loop."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage

from banatie.settings import Settings

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def reset_message(settings: Settings, to: str, link: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = "Reset your Banatie password"
    message.set_content(
        "Someone (hopefully you) asked to reset the password of this Banatie account.\n\n"
        f"Choose a new password within the hour at:\n\n  {link}\n\n"
        "The link works once. If you did not ask for it, ignore this mail: nothing changes.\n"
    )
    return message


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host,
            settings.smtp_port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with client:
        if settings.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password or "")
        client.send_message(message)


async def send(settings: Settings, message: EmailMessage) -> bool:
    """Send; False (and a log line) when the mail server refuses or cannot be reached."""
    try:
        await asyncio.to_thread(_send, settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error(
            "could not send mail to %s through %s: %s", message["To"], settings.smtp_host, exc
        )
        return False
    return True


_sending: set[asyncio.Task[bool]] = set()


async def send_later(settings: Settings, message: EmailMessage) -> None:
    """Send in the background: the page answers as fast whether an address has an account (and
    so a mail to send) or not."""
    task = asyncio.create_task(send(settings, message))
    _sending.add(task)
    task.add_done_callback(_sending.discard)
