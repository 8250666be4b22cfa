"""The demo's servers, all in this process on 127.0.0.1 random ports, all stopped on exit.

`smtp_server` is an aiosmtpd server (in aiosmtpd's own thread) that keeps every message it gets,
so the demo can show the e-mail a run sent (rule B7).

`http_server` runs any ASGI app under uvicorn as a task of the running loop; `sftp_server` is an
asyncssh SFTP server chrooted to a folder, with a host key generated for this run (the bridge's
configuration pins its fingerprint, as a real deployment should) and one password login.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import hmac
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import asyncssh
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0


def _loopback_socket() -> socket.socket:
    # IPPROTO_TCP named: asyncio then sets TCP_NODELAY on the accepted connections, so a small
    # answer is not held some 40 ms for the client's delayed ACK (measured by the benches).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind((LOOPBACK, 0))
    listener.listen(128)
    listener.setblocking(False)
    return listener


@contextlib.asynccontextmanager
async def http_server(app: ASGIApp) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 on a free port; yields its base URL, e.g. http://127.0.0.1:4711.

    The socket is bound before uvicorn starts, so the port is known without races. Leaving the
    block shuts the server down (lifespan shutdown included) and waits for it.
    """
    listener = _loopback_socket()
    port = listener.getsockname()[1]
    # log_config=None: uvicorn's messages go to the root logger (the demo's log file), and it
    # installs no signal handlers of its own beyond what serve() restores on exit.
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]), name=f"uvicorn:{port}")
    try:
        async with asyncio.timeout(START_TIMEOUT):
            while not server.started:
                if task.done():
                    await task  # surfaces the startup error, if it raised one
                    raise RuntimeError(f"the server on port {port} did not start; see the log")
                await asyncio.sleep(0.02)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(STOP_TIMEOUT):
                await asyncio.shield(task)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        listener.close()


@dataclass(frozen=True)
class SftpEndpoint:
    """Where the demo's SFTP server listens and how the bridge recognises it."""

    port: int
    fingerprint: str


@contextlib.asynccontextmanager
async def sftp_server(root: Path, user: str, password: str) -> AsyncIterator[SftpEndpoint]:
    """An SFTP server on 127.0.0.1 serving `root` as `/` to one user and password."""

    class PasswordServer(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True  # always ask for the password

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, attempt: str) -> bool:
            return username == user and hmac.compare_digest(attempt, password)

    class ChrootSftp(asyncssh.SFTPServer):
        def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
            super().__init__(chan, chroot=str(root).encode())

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    acceptor = await asyncssh.listen(
        LOOPBACK,
        0,
        server_host_keys=[host_key],
        server_factory=PasswordServer,
        sftp_factory=ChrootSftp,
    )
    try:
        yield SftpEndpoint(acceptor.get_port(), host_key.get_fingerprint("sha256"))
    finally:
        acceptor.close()
        await acceptor.wait_closed()


@dataclass
class Mailbox:
    """What the demo's SMTP server received (aiosmtpd's thread appends; read after a run)."""

    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        if isinstance(parsed, EmailMessage):
            self.messages.append(parsed)
        return "250 2.0.0 Message accepted"


class _LoopbackController(Controller):
    """aiosmtpd's Controller on port 0: the kernel picks a free port."""

    def _trigger_server(self) -> None:
        # The Controller connects to self.port to wake the server: read the real port first.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@contextlib.asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[int, Mailbox]]:
    """A plain SMTP server on 127.0.0.1 keeping what it gets; yields its port and mailbox."""
    mailbox = Mailbox()
    controller = _LoopbackController(mailbox, hostname=LOOPBACK, port=0)
    await asyncio.to_thread(controller.start)
    try:
        yield int(controller.port), mailbox
    finally:
        await asyncio.to_thread(controller.stop)
