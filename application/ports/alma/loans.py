"""Loans: one role of an institution's Alma API."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaLoan,
    Page,
)


class LoansPort(Protocol):
    """Loans: the transit loan of a new mirror and a user's loans (I10, C1). Failures raise the
    typed errors of `application.shared.alma`."""

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
