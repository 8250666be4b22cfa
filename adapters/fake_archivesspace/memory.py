"""`MemoryArchivesSpace`: the `ArchivesSpace` port over the fake's state, without HTTP.

It is `HttpArchivesSpace` with the network taken out: the same session handling, concurrency
limit and answer readers (`ArchivesSpaceSession`), and each call answered in process by the
fake's own `FakeArchivesSpace.serve`, faults, latency and call log included. A reset becomes
`ArchivesSpaceUnavailable` with the words the HTTP adapter uses for one over
``httpx.ASGITransport``; one contract suite (``tests/integration/aspace_contract``) holds the pair
together.
"""

from __future__ import annotations

import asyncio

from adapters.aspace.answers import Answer
from adapters.aspace.session_calls import ArchivesSpaceSession, Call
from adapters.fake_archivesspace.core import FakeArchivesSpace, InjectedReset
from adapters.fake_archivesspace.faults import FaultInjector
from adapters.fake_archivesspace.state import (
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    FakeArchivesSpaceState,
)
from application.aspace.ports import ArchivesSpaceUnavailable
from application.shared.connections import Secret

__all__ = ["MemoryArchivesSpace"]


class MemoryArchivesSpace(ArchivesSpaceSession):
    """The in-memory twin; ``faults`` may be the very injector the HTTP fake uses."""

    def __init__(
        self,
        state: FakeArchivesSpaceState,
        user: str = DEFAULT_USER,
        password: Secret | None = None,
        *,
        concurrency: int = 4,
        faults: FaultInjector | None = None,
    ) -> None:
        super().__init__(user, password or Secret(DEFAULT_PASSWORD), concurrency=concurrency)
        self.state = state
        self._fake = FakeArchivesSpace(state, faults or FaultInjector())

    async def _exchange(self, call: Call) -> Answer:
        # One step through the event loop per call, as any real exchange takes at least one.
        await asyncio.sleep(0)
        try:
            reply = await self._fake.serve(
                call.method, call.path, query=call.params, form=call.form, token=call.token
            )
        except InjectedReset as error:
            raise ArchivesSpaceUnavailable(
                f"{call}: no answer ({type(error).__name__}: {self._redact(str(error))})"
            ) from None
        return Answer(reply.status, reply.body, reply.media_type)
