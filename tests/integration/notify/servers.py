"""Real receivers for the notifier contract suite, in-process on 127.0.0.1.

An aiosmtpd SMTP server (plain, STARTTLS with required login, or TLS on connect) under a
self-signed certificate made at test time, and a Slack incoming-webhook receiver (Starlette)
that uvicorn serves over a real socket or httpx's ASGI transport. Each records what arrived and
takes armed faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

USER = "bridge@example.edu"
# Distinctive, so that a test scanning errors and logs for them cannot match by accident.
PASSWORD = "Smtp-Pa55-NEVER-shown-4d2e"
WRONG_PASSWORD = "Wr0ng-Pa55-NEVER-shown-91ab"
WEBHOOK_TOKEN = "xoxTOKEN-NEVER-shown-5b7c9d"
WEBHOOK_PATH = f"/services/T0001/B0002/{WEBHOOK_TOKEN}"


# -- TLS ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1, and the contexts that serve and trust it."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies the server against this certificate alone, host name included."""
        return ssl.create_default_context(cafile=str(self.cert_file))


def make_certificate(folder: Path) -> Certificate:
    """A fresh EC key and a one-day certificate for 127.0.0.1 and localhost, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "almabridge test SMTP")])
    now = datetime.now(UTC)
    public = key.public_key()
    # The extensions a strict verifier wants of a self-signed CA that is also the server.
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file = folder / "smtp-cert.pem"
    key_file = folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_file, key_file)


# -- SMTP ---------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What an SMTP server received, and the faults a test arms.

    The server runs in aiosmtpd's thread; a message is stored before the server answers DATA,
    so it is here by the time the client's send returns.
    """

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, user) accepted
    refused_logins: int = 0
    # How many more messages the server answers with 451 instead of taking them.
    failing_data: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.failing_data > 0:
            self.failing_data -= 1
            return "451 4.3.0 Injected failure, try again later"
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        # Line ends as a Unix mail store keeps them: SMTP's CRLF is the wire's, not the text's.
        parsed = message_from_bytes(content.replace(b"\r\n", b"\n"), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 2.0.0 Message accepted"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        good = (
            isinstance(data, LoginPassword)
            and data.login == USER.encode()
            and data.password == PASSWORD.encode()
        )
        if good:
            self.logins.append((mechanism, USER))
        else:
            self.refused_logins += 1
        return AuthResult(success=good, handled=False)


class _LoopbackController(Controller):
    """aiosmtpd's Controller on port 0: the kernel picks a free port, so no two tests race."""

    def _trigger_server(self) -> None:
        # The Controller connects to self.port to wake the server: read the real port first.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def smtp_server(
    mailbox: Mailbox, *, tls: str = "none", certificate: Certificate | None = None
) -> Iterator[int]:
    """An SMTP server on 127.0.0.1 delivering into `mailbox`; yields its port.

    `tls`: "none" (no TLS, no AUTH), "starttls" (STARTTLS and login both required) or
    "implicit" (TLS from the first byte; login accepted).
    """
    options: dict[str, Any] = {}
    if tls != "none":
        assert certificate is not None
    if tls == "starttls":
        assert certificate is not None
        options = {
            "tls_context": certificate.server_context(),
            "require_starttls": True,
            "auth_required": True,
            "authenticator": mailbox.authenticate,
        }
    elif tls == "implicit":
        assert certificate is not None
        options = {
            "ssl_context": certificate.server_context(),
            # aiosmtpd counts only STARTTLS as TLS for AUTH; this whole session is TLS already.
            "auth_require_tls": False,
            "authenticator": mailbox.authenticate,
        }
    controller = _LoopbackController(mailbox, hostname="127.0.0.1", port=0, **options)
    controller.start()
    try:
        yield int(controller.port)
    finally:
        controller.stop()


@contextlib.contextmanager
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never says a word (no SMTP banner, no HTTP)."""
    done = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        done.set()
        server.close()
        await server.wait_closed()


# -- Slack --------------------------------------------------------------------------------------


@dataclass
class SlackInbox:
    """What a webhook receiver got, and the faults a test arms."""

    payloads: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    # How many more posts are answered with `failing_status` instead of being taken.
    failing_posts: int = 0
    failing_status: int = 500
    # Set: posts wait for it before answering (to test the client's timeout).
    hold: asyncio.Event | None = None


def slack_receiver(inbox: SlackInbox) -> Starlette:
    """An app answering like Slack's incoming webhooks: ``ok`` or an error status."""

    async def post(request: Request) -> PlainTextResponse:
        if inbox.hold is not None:
            await inbox.hold.wait()
        if request.url.path != WEBHOOK_PATH:
            return PlainTextResponse("no_service", status_code=404)
        if inbox.failing_posts > 0:
            inbox.failing_posts -= 1
            return PlainTextResponse("internal_error", status_code=inbox.failing_status)
        inbox.paths.append(request.url.path)
        inbox.content_types.append(request.headers.get("content-type", ""))
        inbox.payloads.append(await request.json())
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/services/{rest:path}", post, methods=["POST"])])


@contextlib.asynccontextmanager
async def served_over_tcp(app: Starlette) -> AsyncIterator[str]:
    """`app` under uvicorn on 127.0.0.1; yields its base URL.

    The socket is bound and listening before uvicorn starts, so a client may connect at once (the
    kernel queues it): nothing waits for a "started" flag.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="error"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
