"""Typed errors for programming mistakes in callers of the SCF rules.

Business outcomes (skip, refuse, cancel, wait) are results, never exceptions. An exception from
``domain`` means the caller handed a rule something it cannot have meant, for example an empty
barcode or an item record without ``item_data``; it names the institution, barcode or request so
the ledger entry that records the failure can say which record was bad.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule was called with input it cannot work with."""

    def __init__(
        self,
        problem: str,
        *,
        institution: str | None = None,
        barcode: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.problem = problem
        self.institution = institution
        self.barcode = barcode
        self.request_id = request_id
        super().__init__(problem)

    def __str__(self) -> str:
        context = [
            f"{label} {value}"
            for label, value in (
                ("institution", self.institution),
                ("barcode", self.barcode),
                ("request", self.request_id),
            )
            if value is not None
        ]
        if not context:
            return self.problem
        return f"{self.problem} ({', '.join(context)})"


class InvalidIdentifier(DomainError):
    """A barcode, system user, tag part or similar identifier cannot be built from this input."""


class MalformedItem(DomainError):
    """An Alma item record lacks the parts an item rule needs (``item_data``, a barcode)."""


class WrongRoute(DomainError):
    """A request body builder was asked for a route it does not build."""
