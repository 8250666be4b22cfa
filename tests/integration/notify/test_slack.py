"""Slack incoming webhooks (rule B7): the payload, and failures that never show the webhook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from adapters.notify import SlackNotifier
from application.ports.notify import Attachment, NotificationFailed
from application.shared.connections import Secret
from tests.integration.notify.servers import (
    WEBHOOK_PATH,
    WEBHOOK_TOKEN,
    SlackInbox,
    refusing_port,
    served_over_tcp,
    silent_server,
    slack_receiver,
)
from tests.integration.notify.support import notification, shown

ASGI_WEBHOOK = Secret(f"http://hooks.test{WEBHOOK_PATH}")


def over_asgi(app: Starlette, *, timeout_seconds: float = 5) -> SlackNotifier:
    return SlackNotifier(
        ASGI_WEBHOOK, timeout_seconds=timeout_seconds, transport=httpx.ASGITransport(app=app)
    )


def assert_webhook_hidden(error: NotificationFailed) -> None:
    assert WEBHOOK_TOKEN not in shown(error)
    assert WEBHOOK_PATH not in shown(error)


@pytest.fixture
async def tcp_slack() -> AsyncIterator[tuple[SlackInbox, str]]:
    """A webhook receiver under uvicorn on a real loopback socket, and its webhook URL."""
    inbox = SlackInbox()
    async with served_over_tcp(slack_receiver(inbox)) as base:
        yield inbox, base + WEBHOOK_PATH


async def test_B7_slack_gets_json_text_with_the_subject_in_bold() -> None:
    inbox = SlackInbox()
    notifier = over_asgi(slack_receiver(inbox))

    await notifier.send(notification("oclc-sync: partial", "2 failed: <991> & <992>"))

    assert inbox.paths == [WEBHOOK_PATH]
    assert inbox.content_types == ["application/json"]
    assert inbox.payloads == [
        {"text": "*oclc-sync: partial*\n2 failed: &lt;991&gt; &amp; &lt;992&gt;"}
    ]


async def test_B7_slack_names_the_attachments_that_went_by_email() -> None:
    inbox = SlackInbox()
    report = Attachment("rollover_20250901.txt", b"x", "text/plain")

    await over_asgi(slack_receiver(inbox)).send(notification(attachments=(report,)))

    [payload] = inbox.payloads
    assert payload["text"].endswith("\nAttached to the e-mail: rollover_20250901.txt")


async def test_B7_slack_500_fails_naming_the_status_not_the_webhook(
    tcp_slack: tuple[SlackInbox, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox, webhook = tcp_slack
    inbox.failing_posts = 1

    with pytest.raises(NotificationFailed) as caught:
        await SlackNotifier(Secret(webhook)).send(notification())

    assert caught.value.channel == "slack"
    assert caught.value.message == "webhook answered HTTP 500"
    assert_webhook_hidden(caught.value)
    # httpx logs each request's URL at INFO: the notifier has it rewritten (the receiving
    # server's own access log is not the notifier's to judge).
    client_logs = [r for r in caplog.records if r.name.startswith(("httpx", "httpcore"))]
    assert any("/<slack webhook>" in r.getMessage() for r in client_logs)
    assert not [r for r in client_logs if WEBHOOK_TOKEN in r.getMessage()]


async def test_B7_other_httpx_log_lines_are_left_alone(
    tcp_slack: tuple[SlackInbox, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    _, webhook = tcp_slack
    await SlackNotifier(Secret(webhook)).send(notification())

    # Outside a notifier's post, the same URL is logged as httpx logs it.
    async with httpx.AsyncClient() as client:
        await client.post(webhook, json={"text": "direct"})

    [hidden, direct] = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert WEBHOOK_TOKEN not in hidden
    assert WEBHOOK_TOKEN in direct


async def test_B7_slack_404_for_a_revoked_webhook_fails() -> None:
    inbox = SlackInbox(failing_posts=1, failing_status=404)

    with pytest.raises(NotificationFailed, match=r"^slack: webhook answered HTTP 404$"):
        await over_asgi(slack_receiver(inbox)).send(notification())


async def test_B7_slack_down_fails_naming_the_error_class_not_the_webhook() -> None:
    with refusing_port() as port, pytest.raises(NotificationFailed) as caught:
        await SlackNotifier(Secret(f"http://127.0.0.1:{port}{WEBHOOK_PATH}")).send(notification())

    assert caught.value.message == "webhook: ConnectError"
    assert_webhook_hidden(caught.value)


async def test_B7_slack_that_never_answers_fails_after_the_timeout() -> None:
    async with silent_server() as port:
        notifier = SlackNotifier(
            Secret(f"http://127.0.0.1:{port}{WEBHOOK_PATH}"), timeout_seconds=0.2
        )
        with pytest.raises(NotificationFailed) as caught:
            await notifier.send(notification())

    assert "Timeout" in caught.value.message
    assert_webhook_hidden(caught.value)


async def test_B7_slack_timeout_bounds_the_whole_post_over_any_transport() -> None:
    # The ASGI transport has no socket timeouts: only the notifier's own bound can end this.
    inbox = SlackInbox(hold=asyncio.Event())

    with pytest.raises(NotificationFailed, match="TimeoutError"):
        await over_asgi(slack_receiver(inbox), timeout_seconds=0.2).send(notification())

    assert inbox.payloads == []


async def test_B7_slack_does_not_follow_a_redirect() -> None:
    posts: list[str] = []

    async def moved(request: Request) -> RedirectResponse:
        posts.append(request.url.path)
        return RedirectResponse("/elsewhere", status_code=307)

    app = Starlette(routes=[Route("/{rest:path}", moved, methods=["POST"])])

    with pytest.raises(NotificationFailed, match="HTTP 307"):
        await over_asgi(app).send(notification())

    assert posts == [WEBHOOK_PATH]


async def test_B7_a_malformed_webhook_fails_without_showing_it() -> None:
    for webhook in (f"hooks.slack.com{WEBHOOK_PATH}", f"https://[{WEBHOOK_TOKEN}{WEBHOOK_PATH}"):
        with pytest.raises(NotificationFailed) as caught:
            await SlackNotifier(Secret(webhook)).send(notification())

        assert caught.value.channel == "slack"
        assert_webhook_hidden(caught.value)
