"""The ``Notifier`` contract (rule B7), run against every notifier and a real receiver of each."""

from __future__ import annotations

import pytest

from application.ports.notify import Attachment, NotificationFailed
from tests.integration.notify.support import Rig, notification, shown

REPORT = Attachment(
    filename="rollover_20250901120000.txt",
    # Tabs, CRLF, non-ASCII and a NUL: whatever the transfer encoding, it must come back as is.
    content="SLN\tcode\r\nROLLOVER\tHIST 101 — Études\r\n".encode() + b"\x00\xff",
    media_type="text/plain",
)


async def test_B7_a_sent_notification_arrives_with_its_subject_and_text(rig: Rig) -> None:
    await rig.notifier.send(notification())

    [received] = rig.received()
    assert received.subject == "course-rollover-report: ok"
    assert received.text == "12 rows, 0 failed"
    if received.recipients is not None:
        assert received.recipients == ("reserves@example.edu", "ops@example.edu")


async def test_B7_notifications_arrive_one_each_in_order(rig: Rig) -> None:
    for number in range(3):
        await rig.notifier.send(notification(subject=f"run {number}"))

    assert [r.subject for r in rig.received()] == ["run 0", "run 1", "run 2"]


async def test_B7_non_ascii_and_markup_characters_arrive_unchanged(rig: Rig) -> None:
    subject = "aspace2alma: partial — Café ✓"
    text = "3 failed <mms 991234> & more\nfirst: ‘MC001.01’ → no 008\n\tindented"

    await rig.notifier.send(notification(subject, text))

    [received] = rig.received()
    assert (received.subject, received.text) == (subject, text)


async def test_B7_an_attachment_arrives_intact_or_is_named(rig: Rig) -> None:
    await rig.notifier.send(notification(attachments=(REPORT,)))

    [received] = rig.received()
    if received.files is None:  # a webhook carries no file: the message names it
        assert REPORT.filename in received.text
    else:
        assert received.files == {REPORT.filename: REPORT.content}


async def test_B7_a_failing_channel_raises_NotificationFailed_naming_it(rig: Rig) -> None:
    rig.fail_next()

    with pytest.raises(NotificationFailed) as caught:
        await rig.notifier.send(notification())

    assert caught.value.channel == rig.channel
    assert str(caught.value).startswith(f"{rig.channel}: ")
    for secret in rig.secrets:
        assert secret not in shown(caught.value)
    assert rig.received() == []


async def test_B7_the_send_after_a_failure_goes_through(rig: Rig) -> None:
    rig.fail_next()
    with pytest.raises(NotificationFailed):
        await rig.notifier.send(notification(subject="lost"))

    await rig.notifier.send(notification(subject="delivered"))

    assert [r.subject for r in rig.received()] == ["delivered"]
