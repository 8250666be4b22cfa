"""Notifications of course-loading runs as the command line wires them from ``[notify.smtp]``,
``[notify.slack]`` and ``[notify.course-loading]`` (rule B7), to a real local SMTP server."""

from __future__ import annotations

from application.courses.load_courses import COURSE_LOADING
from application.shared.ledger_records import Outcome
from application.shared.run_notices import NOTIFY_ACTION
from application.shared.run_records import RunStatus
from tests.integration.courses.support import Cem, Rig, body_text, cem_lines, login_smtp_server
from tests.integration.notify.servers import PASSWORD, USER, WRONG_PASSWORD, Mailbox

ROWS = [Cem("HIS101", "77001"), Cem("HIS102", "77002")]
SENDER = "almabridge@example.edu"


def _smtp(rig: Rig, port: int, password: str) -> None:
    rig.notify = {
        "smtp": {
            "host": "127.0.0.1",
            "port": port,
            "starttls": False,
            "user": USER,
            "password": password,
            "from": SENDER,
        },
        COURSE_LOADING: {"to": ["reserves@example.edu"], "on": ["failed", "partial", "ok"]},
    }


async def test_B7_an_SMTP_server_refusing_the_login_never_fails_the_run(rig: Rig) -> None:
    rig.put_cem(ROWS)
    mailbox = Mailbox()
    with login_smtp_server(mailbox) as port:
        _smtp(rig, port, WRONG_PASSWORD)

        result = await rig.run(rig.job(), notifications=rig.notifications())

    # rule B7: the run keeps its outcome; the notifier's failure is a run.notify event.
    assert result.run.status is RunStatus.OK, result.run.reason
    assert mailbox.refused_logins >= 1  # one per mechanism aiosmtplib tries
    assert mailbox.messages == []
    said = f"smtp: 127.0.0.1:{port}: SMTPAuthenticationError (SMTP 535)"
    assert result.notify_failures == (said,)
    [event] = await rig.ledger.events(action=NOTIFY_ACTION)
    assert event.outcome is Outcome.FAILED
    assert event.message == said
    assert event.details is not None
    assert event.details["run_id"] == result.run.id
    assert event.details["workflow"] == COURSE_LOADING
    assert event.details["channel"] == "smtp"
    assert WRONG_PASSWORD not in repr(event)
    assert (await rig.get_run(result.run.id)).status is RunStatus.OK


async def test_B7_a_partial_run_mails_its_counts_and_first_failures(rig: Rig) -> None:
    header, first, second = cem_lines(ROWS)
    rig.put_cem("".join([header, first, "broken,line\n", second]).encode())
    mailbox = Mailbox()
    with login_smtp_server(mailbox) as port:
        _smtp(rig, port, PASSWORD)

        result = await rig.run(rig.job(), notifications=rig.notifications())

    assert result.run.status is RunStatus.PARTIAL
    assert result.notify_failures == ()
    assert [user for _, user in mailbox.logins] == [USER]
    [message] = mailbox.messages
    assert message["Subject"] == f"almabridge course-loading run {result.run.id}: partial"
    text = body_text(message)
    assert "Records: 5 ok, 0 skipped, 1 failed." in text
    assert "- cem_line line 3: " in text
    assert f"Output {rig.loader_name} (sha256 " in text
    assert list(message.iter_attachments()) == []  # only the rollover report is attached
