"""Who has a mirror on loan (issue 7): an SCF item's own view does not name its borrower, so
reconciliation reads the system users' loan lists instead."""

from __future__ import annotations

from application.ports.alma.gateway import AlmaGateway
from application.shared.alma import NotFound
from application.shared.single_flight import KeyedLocks


class SystemUserLoans:
    """Which system user `{INST}-{LIB}` (N3) has an SCF item on loan, listing each user's loans
    at most once per run: one call per 100 loans instead of one per item."""

    def __init__(self, scf: AlmaGateway, users: tuple[str, ...]) -> None:
        self._scf = scf
        self._users = users
        self._loans: dict[str, frozenset[str]] = {}
        self._locks: KeyedLocks[str] = KeyedLocks()

    async def borrower(self, item_pid: str, expected: str) -> str | None:
        """`expected` when it has the item on loan, else another system user who has, else
        None (on loan to someone who is not a system user)."""
        for user in (expected, *(u for u in self._users if u != expected)):
            if item_pid in await self._item_pids(user):
                return user
        return None

    async def _item_pids(self, user: str) -> frozenset[str]:
        async with self._locks.hold(user):
            found = self._loans.get(user)
            if found is None:
                found = await self._list(user)
                self._loans[user] = found
            return found

    async def _list(self, user: str) -> frozenset[str]:
        pids: set[str] = set()
        offset: int | None = 0
        try:
            while offset is not None:
                page = await self._scf.list_user_loans(user, offset=offset)
                for loan in page.records:
                    raw = loan.raw
                    status = str(raw.get("loan_status") or "ACTIVE").upper()
                    if status == "ACTIVE" and raw.get("item_id"):
                        pids.add(str(raw["item_id"]))
                offset = page.next_offset
        except NotFound:
            return frozenset()  # staff have not created this system user: it lends nothing
        return frozenset(pids)
