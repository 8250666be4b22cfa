"""What the notifier tests share: a rig per notifier, and how each receiver's haul is read back.

A rig holds a notifier, reads back what its receiver got (as `Received`), and arms a receiver-side
failure of the next send.
"""

from __future__ import annotations

import contextlib
import html
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

from adapters.notify import SlackNotifier, SmtpNotifier, SmtpSettings
from application.ports.notify import (
    Attachment,
    Notification,
    Notifier,
    RunOutcome,
)
from application.shared.connections import Secret
from tests.integration.notify.servers import (
    PASSWORD,
    USER,
    WEBHOOK_PATH,
    WEBHOOK_TOKEN,
    Certificate,
    Mailbox,
    SlackInbox,
    served_over_tcp,
    slack_receiver,
    smtp_server,
)

KINDS = ["memory", "smtp-plain", "smtp-starttls", "smtp-tls", "slack"]
SENDER = "almabridge@example.edu"
# Short, so that a test of a silent server ends quickly; generous enough for a busy machine.
TIMEOUT = 5.0


@dataclass(frozen=True)
class Received:
    """A notification as its receiver saw it."""

    subject: str
    text: str
    # File name -> content; None for a channel that carries no files (Slack).
    files: dict[str, bytes] | None
    recipients: tuple[str, ...] | None  # None for a channel without addresses


@dataclass
class Rig:
    kind: str
    channel: str
    notifier: Notifier
    received: Callable[[], list[Received]]
    fail_next: Callable[[], None]
    secrets: tuple[str, ...]  # strings that must never show in an error


def notification(
    subject: str = "course-rollover-report: ok",
    text: str = "12 rows, 0 failed",
    *,
    attachments: tuple[Attachment, ...] = (),
) -> Notification:
    return Notification(
        workflow="course-rollover-report",
        run_id=42,
        outcome=RunOutcome.OK,
        subject=subject,
        text=text,
        attachments=attachments,
        to=("reserves@example.edu", "ops@example.edu"),
    )


def shown(error: BaseException) -> str:
    """Everything a log of the error could print: str, repr and the whole traceback chain."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def smtp_settings(
    port: int,
    *,
    starttls: bool = False,
    use_tls: bool = False,
    password: str | None = PASSWORD,
    certificate: Certificate | None = None,
    login: bool = True,
) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        starttls=starttls,
        use_tls=use_tls,
        user=USER if login else "",
        password=Secret(password) if password is not None and login else None,
        sender=SENDER,
        timeout_seconds=TIMEOUT,
        tls_context=certificate.client_context() if certificate else None,
    )


def mailbox_received(mailbox: Mailbox) -> list[Received]:
    received = []
    for message in mailbox.messages:
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        files = {}
        for part in message.iter_attachments():
            content = part.get_payload(decode=True)
            assert isinstance(content, bytes)
            files[str(part.get_filename())] = content
        received.append(
            Received(
                subject=str(message["Subject"]),
                # set_content ends the body with a line break; the sender's text had none.
                text=body.get_content().removesuffix("\n"),
                files=files,
                recipients=tuple(a.strip() for a in str(message["To"]).split(",")),
            )
        )
    return received


def slack_received(inbox: SlackInbox) -> list[Received]:
    received = []
    for payload in inbox.payloads:
        first, _, rest = payload["text"].partition("\n")
        received.append(
            Received(
                subject=html.unescape(first.removeprefix("*").removesuffix("*")),
                text=html.unescape(rest),
                files=None,
                recipients=None,
            )
        )
    return received


@contextlib.contextmanager
def smtp_rig(kind: str, certificate: Certificate) -> Iterator[Rig]:
    mailbox = Mailbox()
    tls = {"smtp-plain": "none", "smtp-starttls": "starttls", "smtp-tls": "implicit"}[kind]
    with smtp_server(mailbox, tls=tls, certificate=certificate) as port:
        settings = smtp_settings(
            port,
            starttls=tls == "starttls",
            use_tls=tls == "implicit",
            certificate=certificate if tls != "none" else None,
            login=tls != "none",
        )

        def fail_next() -> None:
            mailbox.failing_data += 1

        yield Rig(
            kind=kind,
            channel="smtp",
            notifier=SmtpNotifier(settings),
            received=lambda: mailbox_received(mailbox),
            fail_next=fail_next,
            secrets=(PASSWORD,),
        )


@contextlib.asynccontextmanager
async def slack_rig() -> AsyncIterator[Rig]:
    inbox = SlackInbox()
    async with served_over_tcp(slack_receiver(inbox)) as base:

        def fail_next() -> None:
            inbox.failing_posts += 1

        yield Rig(
            kind="slack",
            channel="slack",
            notifier=SlackNotifier(Secret(base + WEBHOOK_PATH), timeout_seconds=TIMEOUT),
            received=lambda: slack_received(inbox),
            fail_next=fail_next,
            secrets=(WEBHOOK_TOKEN, WEBHOOK_PATH),
        )
