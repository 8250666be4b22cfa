"""E-mail over SMTP (rule B7) against a real aiosmtpd server: TLS modes, login, failures."""

from __future__ import annotations

import dataclasses

import pytest

from adapters.notify import SmtpNotifier, SmtpSettings
from application.ports.notify import Attachment, NotificationFailed
from application.shared.connections import Secret
from tests.integration.notify.servers import (
    PASSWORD,
    USER,
    WRONG_PASSWORD,
    Certificate,
    Mailbox,
    refusing_port,
    silent_server,
    smtp_server,
)
from tests.integration.notify.support import SENDER, notification, shown, smtp_settings


async def test_B7_starttls_then_login_then_the_message(certificate: Certificate) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, tls="starttls", certificate=certificate) as port:
        notifier = SmtpNotifier(smtp_settings(port, starttls=True, certificate=certificate))
        await notifier.send(notification())

    # The server refuses AUTH and MAIL before STARTTLS, so a login means TLS came first.
    [(mechanism, user)] = mailbox.logins
    assert mechanism in {"LOGIN", "PLAIN"}
    assert user == USER
    assert mailbox.envelopes == [(SENDER, ["reserves@example.edu", "ops@example.edu"])]
    [message] = mailbox.messages
    assert message["From"] == SENDER
    assert message["Message-ID"].endswith("@example.edu>")
    assert message["Date"]


async def test_B7_tls_on_connect_with_login(certificate: Certificate) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, tls="implicit", certificate=certificate) as port:
        notifier = SmtpNotifier(smtp_settings(port, use_tls=True, certificate=certificate))
        await notifier.send(notification())

    assert [user for _, user in mailbox.logins] == [USER]
    assert len(mailbox.messages) == 1


async def test_B7_a_wrong_password_fails_without_showing_it(certificate: Certificate) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, tls="starttls", certificate=certificate) as port:
        settings = smtp_settings(
            port, starttls=True, password=WRONG_PASSWORD, certificate=certificate
        )
        with pytest.raises(NotificationFailed) as caught:
            await SmtpNotifier(settings).send(notification())

    assert caught.value.channel == "smtp"
    assert caught.value.message == f"127.0.0.1:{port}: SMTPAuthenticationError (SMTP 535)"
    assert WRONG_PASSWORD not in shown(caught.value)
    assert PASSWORD not in shown(caught.value)
    assert mailbox.refused_logins >= 1  # aiosmtplib tries each mechanism the server offers
    assert mailbox.messages == []


async def test_B7_a_server_that_is_down_fails_naming_host_and_port() -> None:
    with refusing_port() as port, pytest.raises(NotificationFailed) as caught:
        await SmtpNotifier(smtp_settings(port, login=False)).send(notification())

    assert caught.value.channel == "smtp"
    assert caught.value.message == f"127.0.0.1:{port}: SMTPConnectError"


async def test_B7_a_server_that_never_answers_fails_after_the_timeout() -> None:
    async with silent_server() as port:
        settings = dataclasses.replace(smtp_settings(port, login=False), timeout_seconds=0.2)
        with pytest.raises(NotificationFailed) as caught:
            await SmtpNotifier(settings).send(notification())

    assert caught.value.message.startswith(f"127.0.0.1:{port}: ")
    assert "Timeout" in caught.value.message


async def test_B7_an_untrusted_certificate_is_refused(certificate: Certificate) -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, tls="starttls", certificate=certificate) as port:
        # No tls_context: the system's trust store, which does not know the test certificate.
        settings = smtp_settings(port, starttls=True)
        with pytest.raises(NotificationFailed) as caught:
            await SmtpNotifier(settings).send(notification())

    assert caught.value.channel == "smtp"
    assert PASSWORD not in shown(caught.value)
    assert mailbox.logins == []
    assert mailbox.messages == []


async def test_B7_starttls_asked_of_a_server_without_it_fails_rather_than_sending_plain() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox, tls="none") as port, pytest.raises(NotificationFailed) as caught:
        await SmtpNotifier(smtp_settings(port, starttls=True)).send(notification())

    assert caught.value.channel == "smtp"
    assert PASSWORD not in shown(caught.value)
    assert mailbox.messages == []


async def test_B7_a_binary_attachment_keeps_its_bytes_name_and_media_type() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    csv = Attachment("report.csv", b"mms_id,outcome\r\n991,ok\r\n", "text/csv")
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        await SmtpNotifier(smtp_settings(port, login=False)).send(
            notification(attachments=(Attachment("chart.png", png, "image/png"), csv))
        )

    [message] = mailbox.messages
    parts = list(message.iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [
        ("chart.png", "image/png"),
        ("report.csv", "text/csv"),
    ]
    assert [p.get_payload(decode=True) for p in parts] == [png, csv.content]


async def test_B7_a_line_break_in_the_subject_cannot_add_a_header() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port:
        await SmtpNotifier(smtp_settings(port, login=False)).send(
            notification(subject="oclc-sync: failed\r\nBcc: someone@example.com")
        )

    [message] = mailbox.messages
    assert message["Bcc"] is None
    assert message["Subject"] == "oclc-sync: failed Bcc: someone@example.com"
    assert mailbox.envelopes[0][1] == ["reserves@example.edu", "ops@example.edu"]


async def test_B7_a_line_break_in_an_address_fails_and_sends_nothing() -> None:
    injected = dataclasses.replace(notification(), to=("a@example.edu\nBcc: b@example.com",))
    mailbox = Mailbox()
    with (
        smtp_server(mailbox) as port,
        pytest.raises(NotificationFailed, match=r"cannot build the message \(ValueError\)"),
    ):
        await SmtpNotifier(smtp_settings(port, login=False)).send(injected)

    assert mailbox.messages == []


async def test_B7_a_notification_without_recipients_fails_and_sends_nothing() -> None:
    mailbox = Mailbox()
    with smtp_server(mailbox) as port, pytest.raises(NotificationFailed, match="no recipients"):
        await SmtpNotifier(smtp_settings(port, login=False)).send(
            dataclasses.replace(notification(), to=())
        )

    assert mailbox.messages == []


def test_B7_smtp_settings_never_show_the_password() -> None:
    settings = smtp_settings(587, starttls=True)

    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings)


def test_B7_starttls_and_tls_on_connect_exclude_each_other() -> None:
    with pytest.raises(ValueError, match="exclude each other"):
        SmtpSettings("h", 465, True, True, "", Secret(""), SENDER)
