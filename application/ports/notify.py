"""Notifications of a run's outcome by e-mail and Slack (rule B7): the ``Notifier`` port.

A notifier that fails raises `NotificationFailed`; the caller records it as an event and the run
goes on, whatever its outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.shared.run_outcome import RunOutcome

__all__ = [
    "Attachment",
    "Notification",
    "NotificationFailed",
    "Notifier",
    "NotifyRoute",
    "RunOutcome",
    "should_notify",
]


@dataclass(frozen=True)
class Attachment:
    """A file sent with a notification (the rollover report, rule L8)."""

    filename: str
    content: bytes
    media_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Notification:
    """What a run tells its people: the counts and first failures are in `text`.

    `to` holds the e-mail recipients; channels without addresses (Slack) ignore it.
    """

    workflow: str
    run_id: int | None
    outcome: RunOutcome
    subject: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    to: tuple[str, ...] = ()


class NotificationFailed(Exception):
    """A channel could not deliver a notification.

    `message` is safe to log and record: it names the host, status or error class, never a
    password or a webhook token.
    """

    def __init__(self, channel: str, message: str) -> None:
        # Both in args, so that the exception pickles and its default repr names both.
        super().__init__(channel, message)
        self.channel = channel
        self.message = message

    def __str__(self) -> str:
        return f"{self.channel}: {self.message}"


class Notifier(Protocol):
    """One notification channel (e-mail over SMTP, a Slack incoming webhook, memory)."""

    async def send(self, notification: Notification) -> None:
        """Deliver `notification`, or raise `NotificationFailed` naming this channel."""
        ...


@dataclass(frozen=True)
class NotifyRoute:
    """Who hears about a workflow's runs, and on which outcomes (a ``[notify.WORKFLOW]`` table)."""

    workflow: str
    to: tuple[str, ...]
    on: frozenset[RunOutcome]
    slack: bool


def should_notify(route: NotifyRoute, outcome: RunOutcome) -> bool:
    """Whether a run that ended with `outcome` is announced on `route`'s channels."""
    return outcome in route.on
