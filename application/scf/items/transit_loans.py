"""The transit loan of a new SCF mirror to its member library's system user (rules I10, N3).

Alma may refuse to lend an item it created a moment ago (not yet indexed for circulation). The
Java app slept 3 s before every loan and never retried; here the loan is retried with exponential
backoff and jitter, bounded in attempts and time, only while Alma's answer means "not ready".
Transient failures (5xx, timeouts) were already retried by the HTTP adapter, the one retry layer
for them (rule A3), so they are not retried again here.
"""

from __future__ import annotations

from dataclasses import dataclass

import stamina

from application.ports.alma.loans import LoansPort
from application.shared.alma import AlreadyOnLoan, ItemNotReadyForLoan
from domain.scf.institutions import RemoteStorage
from domain.scf.naming import system_user_id


@dataclass(frozen=True)
class LoanRetry:
    """How long to keep asking while Alma says the new item is not ready to lend."""

    attempts: int = 6
    timeout_seconds: float = 120.0
    wait_initial: float = 1.0
    wait_max: float = 30.0
    wait_jitter: float = 1.0


def _not_ready(error: Exception) -> bool:
    return isinstance(error, ItemNotReadyForLoan)


class TransitLoans:
    """Lends new SCF mirrors to `{INST}-{library}` at the SCF circulation desk (rule I10)."""

    def __init__(
        self, scf: LoansPort, remote_storage: RemoteStorage, retry: LoanRetry | None = None
    ) -> None:
        self._scf = scf
        self._rs = remote_storage
        self._retry = retry or LoanRetry()

    def user_for(self, institution: str, member_library: str) -> str:
        """The SCF system user standing for the member library (rule N3)."""
        return system_user_id(institution, member_library)

    async def lend(self, user_id: str, item_pid: str) -> None:
        """Loan the item, retrying while Alma is not ready; raises the last `AlmaError`."""
        async for attempt in stamina.retry_context(
            on=_not_ready,
            attempts=self._retry.attempts,
            timeout=self._retry.timeout_seconds,
            wait_initial=self._retry.wait_initial,
            wait_max=self._retry.wait_max,
            wait_jitter=self._retry.wait_jitter,
        ):
            with attempt:
                try:
                    await self._scf.create_loan(
                        user_id,
                        item_pid,
                        circ_desk=self._rs.circ_desk,
                        library=self._rs.holding_library,
                    )
                except AlreadyOnLoan:
                    # A brand-new item can only be on our loan: an earlier attempt whose
                    # answer was lost (a retried POST) went through after all.
                    return
