"""The in-memory twin of a notifier: records what it sends, and fails on demand."""

from __future__ import annotations

from application.ports.notify import Notification, NotificationFailed

__all__ = ["MemoryNotifier"]


class MemoryNotifier:
    """Records sent notifications in `sent`; `fail_next(n)` makes the next n sends fail.

    `channel` is the name its failures carry, so that one twin can stand in for "smtp" and
    another for "slack".
    """

    def __init__(self, channel: str = "memory") -> None:
        self.channel = channel
        self.sent: list[Notification] = []
        self.attempts = 0
        self._failures_left = 0

    def fail_next(self, count: int = 1) -> None:
        """Make the next `count` sends raise `NotificationFailed` (and record nothing)."""
        if count < 0:
            raise ValueError("count must not be negative")
        self._failures_left = count

    async def send(self, notification: Notification) -> None:
        """Record `notification`, or raise `NotificationFailed` when a failure is armed."""
        self.attempts += 1
        if self._failures_left > 0:
            self._failures_left -= 1
            raise NotificationFailed(self.channel, "failure injected")
        self.sent.append(notification)
