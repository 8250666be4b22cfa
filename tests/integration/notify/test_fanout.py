"""Routing one run's notification to its channels (rule B7): a failing notifier never fails the run.

Also `should_notify` per outcome and the memory twin's armed failures.
"""

from __future__ import annotations

import dataclasses
import logging

import httpx
import pytest

from adapters.notify import (
    MemoryNotifier,
    Notifications,
    SlackNotifier,
    SmtpNotifier,
)
from application.ports.notify import (
    Notification,
    NotificationFailed,
    NotifyRoute,
    RunOutcome,
    should_notify,
)
from application.shared.connections import Secret
from tests.integration.notify.servers import (
    PASSWORD,
    WEBHOOK_PATH,
    WEBHOOK_TOKEN,
    SlackInbox,
    refusing_port,
    slack_receiver,
)
from tests.integration.notify.support import notification, smtp_settings

WORKFLOW = "course-rollover-report"
EVERY = frozenset(RunOutcome)


def route(
    *,
    to: tuple[str, ...] = ("reserves@example.edu",),
    on: frozenset[RunOutcome] = EVERY,
    slack: bool = True,
) -> NotifyRoute:
    return NotifyRoute(workflow=WORKFLOW, to=to, on=on, slack=slack)


def run(outcome: RunOutcome = RunOutcome.OK, workflow: str = WORKFLOW) -> Notification:
    # The route, not the caller, decides the e-mail's recipients.
    return dataclasses.replace(notification(), workflow=workflow, outcome=outcome, to=())


def channels() -> tuple[MemoryNotifier, MemoryNotifier]:
    return MemoryNotifier(channel="smtp"), MemoryNotifier(channel="slack")


@pytest.mark.parametrize("outcome", list(RunOutcome))
@pytest.mark.parametrize(
    "on",
    [EVERY, frozenset({RunOutcome.FAILED}), frozenset({RunOutcome.FAILED, RunOutcome.PARTIAL})],
    ids=["every", "failed", "failed+partial"],
)
def test_B7_should_notify_exactly_on_the_routes_outcomes(
    outcome: RunOutcome, on: frozenset[RunOutcome]
) -> None:
    assert should_notify(route(on=on), outcome) is (outcome in on)


def test_B7_a_route_with_no_outcomes_never_notifies() -> None:
    assert not any(should_notify(route(on=frozenset()), outcome) for outcome in RunOutcome)


def test_B7_outcomes_are_spelled_as_in_the_configuration() -> None:
    assert [str(outcome) for outcome in RunOutcome] == ["ok", "partial", "failed"]
    assert RunOutcome("partial") is RunOutcome.PARTIAL


async def test_B7_both_channels_get_the_run_and_the_email_goes_to_the_route() -> None:
    email, slack = channels()
    notifications = Notifications({WORKFLOW: route()}, email=email, slack=slack)

    assert await notifications.notify(run()) == []

    assert [n.to for n in email.sent] == [("reserves@example.edu",)]
    assert slack.sent == [run()]


async def test_B7_an_outcome_the_route_does_not_list_sends_nothing() -> None:
    email, slack = channels()
    notifications = Notifications(
        {WORKFLOW: route(on=frozenset({RunOutcome.FAILED}))}, email=email, slack=slack
    )

    assert await notifications.notify(run(RunOutcome.PARTIAL)) == []
    assert await notifications.notify(run(RunOutcome.FAILED)) == []

    assert [n.outcome for n in email.sent + slack.sent] == [RunOutcome.FAILED] * 2


async def test_B7_a_workflow_without_a_route_is_not_announced() -> None:
    email, slack = channels()
    notifications = Notifications({WORKFLOW: route()}, email=email, slack=slack)

    assert await notifications.notify(run(workflow="oclc-sync")) == []

    assert email.attempts == slack.attempts == 0


@pytest.mark.parametrize(
    ("to", "slack_on", "expected"),
    [
        ((), True, (0, 1)),
        (("a@example.edu",), False, (1, 0)),
        ((), False, (0, 0)),
    ],
)
async def test_B7_only_the_channels_the_route_asks_for_are_used(
    to: tuple[str, ...], slack_on: bool, expected: tuple[int, int]
) -> None:
    email, slack = channels()
    notifications = Notifications(
        {WORKFLOW: route(to=to, slack=slack_on)}, email=email, slack=slack
    )

    assert await notifications.notify(run()) == []

    assert (len(email.sent), len(slack.sent)) == expected


async def test_B7_a_channel_not_configured_is_skipped() -> None:
    _, slack = channels()
    notifications = Notifications({WORKFLOW: route()}, slack=slack)

    assert await notifications.notify(run()) == []

    assert len(slack.sent) == 1


async def test_B7_a_failing_channel_is_returned_and_the_other_still_sends() -> None:
    email, slack = channels()
    email.fail_next()
    notifications = Notifications({WORKFLOW: route()}, email=email, slack=slack)

    [failure] = await notifications.notify(run(RunOutcome.FAILED))

    assert (failure.channel, failure.message) == ("smtp", "failure injected")
    assert email.sent == []
    assert len(slack.sent) == 1


async def test_B7_every_failure_is_returned_in_channel_order() -> None:
    email, slack = channels()
    email.fail_next()
    slack.fail_next()
    notifications = Notifications({WORKFLOW: route()}, email=email, slack=slack)

    failures = await notifications.notify(run())

    assert [f.channel for f in failures] == ["smtp", "slack"]


class Broken:
    """A notifier with a bug: it raises something other than NotificationFailed."""

    async def send(self, notification: Notification) -> None:
        raise RuntimeError(f"boom with {PASSWORD}")


async def test_B7_a_notifier_bug_is_returned_as_a_failure_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    email, _ = channels()
    notifications = Notifications({WORKFLOW: route()}, email=email, slack=Broken())

    [failure] = await notifications.notify(run())

    assert (failure.channel, failure.message) == ("slack", "unexpected RuntimeError")
    assert len(email.sent) == 1
    assert PASSWORD not in caplog.text


async def test_B7_real_channels_that_fail_are_returned_never_raised_nor_logged_with_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox = SlackInbox(failing_posts=1, failing_status=503)
    slack = SlackNotifier(
        Secret(f"http://hooks.test{WEBHOOK_PATH}"),
        transport=httpx.ASGITransport(app=slack_receiver(inbox)),
    )
    with refusing_port() as port:
        notifications = Notifications(
            {WORKFLOW: route()}, email=SmtpNotifier(smtp_settings(port)), slack=slack
        )
        failures = await notifications.notify(run(RunOutcome.FAILED))

    assert [str(f) for f in failures] == [
        f"smtp: 127.0.0.1:{port}: SMTPConnectError",
        "slack: webhook answered HTTP 503",
    ]
    assert all(isinstance(f, NotificationFailed) for f in failures)
    for secret in (PASSWORD, WEBHOOK_TOKEN):
        assert secret not in caplog.text
    assert "notification of course-rollover-report run 42 failed" in caplog.text


async def test_B7_the_memory_twin_fails_exactly_the_armed_number_of_sends() -> None:
    twin = MemoryNotifier()
    twin.fail_next(2)

    for _ in range(2):
        with pytest.raises(NotificationFailed, match=r"^memory: failure injected$"):
            await twin.send(run())
    await twin.send(run())

    assert (twin.attempts, len(twin.sent)) == (3, 1)
