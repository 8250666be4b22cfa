"""Fixtures of the notifier contract suite: a session certificate, and one rig per notifier
(memory, SMTP in three TLS modes, Slack over a real socket).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.notify import MemoryNotifier
from tests.integration.notify.servers import Certificate, make_certificate
from tests.integration.notify.support import KINDS, Received, Rig, slack_rig, smtp_rig


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """One self-signed certificate for the session's TLS servers (key generation is slowish)."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=KINDS)
async def rig(request: pytest.FixtureRequest, certificate: Certificate) -> AsyncIterator[Rig]:
    """Each notifier in turn, with its receiver."""
    kind: str = request.param
    if kind == "memory":
        memory = MemoryNotifier(channel="memory")

        def memory_received() -> list[Received]:
            return [
                Received(
                    subject=n.subject,
                    text=n.text,
                    files={a.filename: a.content for a in n.attachments},
                    recipients=n.to,
                )
                for n in memory.sent
            ]

        yield Rig(
            kind=kind,
            channel="memory",
            notifier=memory,
            received=memory_received,
            fail_next=memory.fail_next,
            secrets=(),
        )
    elif kind == "slack":
        async with slack_rig() as slack:
            yield slack
    else:
        with smtp_rig(kind, certificate) as smtp:
            yield smtp
