"""One run's notification to every channel its workflow's route asks for (rule B7)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping

from application.ports.notify import (
    Notification,
    NotificationFailed,
    Notifier,
    NotifyRoute,
    should_notify,
)

__all__ = ["Notifications"]

logger = logging.getLogger("adapters.notify")


class Notifications:
    """Routes notifications by workflow to e-mail and Slack; a channel's failure never raises.

    `routes` maps a workflow name to its ``[notify.WORKFLOW]`` table; a workflow without one is
    not announced. A channel left out (`email` or `slack` None) is skipped.
    """

    def __init__(
        self,
        routes: Mapping[str, NotifyRoute],
        *,
        email: Notifier | None = None,
        slack: Notifier | None = None,
    ) -> None:
        self._routes = dict(routes)
        self._email = email
        self._slack = slack

    async def notify(self, notification: Notification) -> list[NotificationFailed]:
        """Send to each channel the route asks for; the failures, for the caller to record."""
        route = self._routes.get(notification.workflow)
        if route is None or not should_notify(route, notification.outcome):
            return []
        sends: list[tuple[str, Notifier, Notification]] = []
        if self._email is not None and route.to:
            # The route decides who gets the e-mail.
            sends.append(("smtp", self._email, dataclasses.replace(notification, to=route.to)))
        if self._slack is not None and route.slack:
            sends.append(("slack", self._slack, notification))
        results = await asyncio.gather(
            *(self._send(channel, notifier, message) for channel, notifier, message in sends)
        )
        return [failure for failure in results if failure is not None]

    @staticmethod
    async def _send(
        channel: str, notifier: Notifier, notification: Notification
    ) -> NotificationFailed | None:
        try:
            await notifier.send(notification)
        except NotificationFailed as failure:
            logger.warning(
                "notification of %s run %s failed: %s",
                notification.workflow,
                notification.run_id,
                failure,
            )
            return failure
        except Exception as error:
            # A notifier's bug must not fail the run either (B7); its message may hold a secret,
            # so only the class is kept.
            logger.error("notifier %s raised %s", channel, type(error).__name__)
            return NotificationFailed(channel, f"unexpected {type(error).__name__}")
        return None
