"""Loans: one role of an institution's Alma API."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaLoan,
    Page,
)


class LoansPort(Protocol):
    """Loans: the transit loan of a new mirror, a user's loans, an item's loan (I10, I12, C1).
    Failures raise the typed errors of `application.shared.alma`."""

    institution: str

    async def create_loan(
        self, user_id: str, item_pid: str, *, circ_desk: str, library: str
    ) -> AlmaLoan:
        """Loan an item to a user at a library's desk (rule I10)."""
        ...

    async def list_user_loans(
        self, user_id: str, *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaLoan]:
        """One page of a user's loans."""
        ...

    async def item_loans(self, mms_id: str, holding_id: str, item_pid: str) -> list[AlmaLoan]:
        """The item's open loans, with their borrowers (`GET …/items/{pid}/loans`; Alma shows at
        most one); empty when it is not on loan, `ItemNotFound` for an unknown item (I12)."""
        ...
