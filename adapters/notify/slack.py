"""Slack notifications through an incoming webhook (rule B7).

The webhook URL carries its token in the path, so it is a `Secret`: errors name the HTTP status
or the exception class only, never the URL, and httpx's own request log line is rewritten while
a notifier posts (httpx logs every request's full URL at INFO).
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar

import httpx

from application.ports.notify import Notification, NotificationFailed
from application.shared.connections import Secret

__all__ = ["SlackNotifier", "slack_escape", "slack_payload"]

CHANNEL = "slack"
HIDDEN = "/<slack webhook>"

# The webhook paths (token included) the current task is posting to; a context variable, so that
# concurrent tasks, and everyone else's httpx calls, are left alone.
_posting_to: ContextVar[tuple[str, ...]] = ContextVar("slack_webhook_paths", default=())


class _HideWebhook(logging.Filter):
    """Rewrites a log record that names the webhook being posted to by this task."""

    def filter(self, record: logging.LogRecord) -> bool:
        paths = _posting_to.get()
        if paths:
            text = record.getMessage()
            if any(path in text for path in paths):
                for path in paths:
                    text = text.replace(path, HIDDEN)
                record.msg, record.args = text, None
        return True


# On the logger httpx itself logs to: a logger's filters do not see its children's records.
logging.getLogger("httpx").addFilter(_HideWebhook())


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's message format gives a meaning (``& < >``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, str]:
    """The webhook's JSON body: the subject in bold, then the text.

    A webhook cannot carry files, so attachments are named (they go out by e-mail).
    """
    lines = [f"*{slack_escape(notification.subject)}*", slack_escape(notification.text)]
    if notification.attachments:
        names = ", ".join(slack_escape(a.filename) for a in notification.attachments)
        lines.append(f"Attached to the e-mail: {names}")
    return {"text": "\n".join(lines)}


def _secret_paths(url: str) -> tuple[str, ...]:
    """The forms in which the webhook's path (its token) may be printed."""
    paths = {url}
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return (url,)
    paths.update({parsed.path, parsed.raw_path.decode("ascii", "replace"), str(parsed)})
    paths.discard("")
    paths.discard("/")
    # Longest first, so that a whole URL is replaced before the path inside it.
    return tuple(sorted(paths, key=len, reverse=True))


class SlackNotifier:
    """Posts each notification to one Slack incoming webhook.

    `transport` replaces httpx's network transport (tests pass an ``httpx.ASGITransport``).
    """

    def __init__(
        self,
        webhook: Secret,
        *,
        timeout_seconds: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError("notify.slack: timeout_seconds must be positive")
        self._webhook = webhook
        self._hidden = _secret_paths(webhook.reveal())
        self._timeout_seconds = timeout_seconds
        self._transport = transport

    def __repr__(self) -> str:
        return f"SlackNotifier(webhook={self._webhook!r})"

    async def send(self, notification: Notification) -> None:
        """Post `notification`, or raise `NotificationFailed` naming the status or error class."""
        hiding = _posting_to.set(self._hidden)
        try:
            # httpx's timeout bounds each phase; this one bounds the whole post.
            async with (
                asyncio.timeout(self._timeout_seconds),
                httpx.AsyncClient(
                    transport=self._transport,
                    timeout=self._timeout_seconds,
                    # A redirect is not Slack's answer; following it would resend the payload.
                    follow_redirects=False,
                ) as client,
            ):
                response = await client.post(
                    self._webhook.reveal(), json=slack_payload(notification)
                )
        except (httpx.HTTPError, httpx.InvalidURL, OSError, TimeoutError) as error:
            # `from None`: httpx's exceptions and their requests hold the URL, and so its token.
            raise NotificationFailed(CHANNEL, f"webhook: {type(error).__name__}") from None
        finally:
            _posting_to.reset(hiding)
        if not response.is_success:
            raise NotificationFailed(CHANNEL, f"webhook answered HTTP {response.status_code}")
