"""E-mail notifications over SMTP (rule B7): STARTTLS or TLS on connect, login when configured."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from application.ports.notify import Notification, NotificationFailed
from application.shared.connections import Secret

__all__ = ["SmtpNotifier", "SmtpSettings", "build_message"]

CHANNEL = "smtp"


@dataclass(frozen=True)
class SmtpSettings:
    """The ``[notify.smtp]`` table; the password never shows itself (it is a `Secret`).

    `starttls` upgrades a plain connection (port 587); `use_tls` speaks TLS from the first byte
    (port 465). `tls_context` replaces the system's trust store, e.g. for a private CA.
    """

    host: str
    port: int
    starttls: bool
    use_tls: bool
    user: str
    password: Secret | None
    sender: str
    timeout_seconds: float = 30
    tls_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if self.starttls and self.use_tls:
            raise ValueError("notify.smtp: starttls and use_tls exclude each other")
        if self.timeout_seconds <= 0:
            raise ValueError("notify.smtp: timeout_seconds must be positive")

    @property
    def address(self) -> str:
        """``host:port``, for messages."""
        return f"{self.host}:{self.port}"


def _one_line(value: str) -> str:
    # A line break in a header value would be refused by EmailMessage (header injection).
    return " ".join(value.split())


def build_message(notification: Notification, sender: str) -> EmailMessage:
    """The e-mail for `notification`: subject, plain-text body, one part per attachment."""
    message = EmailMessage()
    message["Subject"] = _one_line(notification.subject)
    message["From"] = sender
    message["To"] = ", ".join(notification.to)
    message["Date"] = formatdate(localtime=False)
    # An explicit domain, so that make_msgid does not look up this host's name (slow, leaky).
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "almabridge.invalid")
    message.set_content(notification.text)
    for attachment in notification.attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


class SmtpNotifier:
    """Sends each notification as one e-mail to its `to` addresses.

    Every failure (refused connection, TLS, login, a refused recipient or message, a timeout)
    raises `NotificationFailed("smtp", ...)` naming host:port and the error class, never the
    password.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    async def send(self, notification: Notification) -> None:
        """Deliver `notification` by e-mail, or raise `NotificationFailed`."""
        settings = self._settings
        if not notification.to:
            raise NotificationFailed(CHANNEL, f"{settings.address}: no recipients")
        try:
            message = build_message(notification, settings.sender)
        except (ValueError, TypeError) as error:
            # E.g. a line break in an address, refused by EmailMessage (header injection).
            raise NotificationFailed(
                CHANNEL, f"{settings.address}: cannot build the message ({type(error).__name__})"
            ) from error
        username: str | None = None
        password: str | None = None
        if settings.user:
            username = settings.user
            # A user without a password still logs in (and is refused there, visibly).
            password = settings.password.reveal() if settings.password else ""
        try:
            # aiosmtplib's timeout bounds each command; this one bounds the whole exchange.
            async with asyncio.timeout(settings.timeout_seconds):
                await aiosmtplib.send(
                    message,
                    sender=settings.sender,
                    recipients=list(notification.to),
                    hostname=settings.host,
                    port=settings.port,
                    username=username,
                    password=password,
                    use_tls=settings.use_tls,
                    # False, not None: None would let aiosmtplib decide from the server's EHLO.
                    start_tls=settings.starttls,
                    tls_context=settings.tls_context,
                    timeout=settings.timeout_seconds,
                )
        except aiosmtplib.SMTPResponseException as error:
            # The server's reply code helps (535: login refused); its text is left out.
            raise NotificationFailed(
                CHANNEL, f"{settings.address}: {type(error).__name__} (SMTP {error.code})"
            ) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise NotificationFailed(
                CHANNEL, f"{settings.address}: {type(error).__name__}"
            ) from error
