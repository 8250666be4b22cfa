"""A `HoldingsReader` whose unreadable answers are the record's failure (rules H2, B2).

The HTTP adapter reads the holdings list with ``response.json()``: an answer that is not JSON
(a proxy's HTML page with status 200, a body cut short) comes out as ``ValueError``
(`json.JSONDecodeError`, `UnicodeDecodeError`), which no use case should have to know. Here it
becomes an `AlmaError` naming the call and the record, so the export records that MMS id failed
and goes on.
"""

from __future__ import annotations

from adapters.alma_http.holdings import GET_HOLDING_RECORD, LIST_HOLDINGS
from application.ports.alma.holdings import HoldingRecord, HoldingsReader, HoldingSummary
from application.shared.alma import AlmaError

__all__ = ["ReadableHoldings"]


class ReadableHoldings:
    """Wraps a `HoldingsReader`; unreadable answers raise `AlmaError` (see the module text)."""

    def __init__(self, inner: HoldingsReader) -> None:
        self._inner = inner
        self.institution = inner.institution

    async def holdings_of(self, mms_id: str) -> list[HoldingSummary]:
        try:
            return await self._inner.holdings_of(mms_id)
        except ValueError as error:
            raise self._unreadable(LIST_HOLDINGS, error, {"mms_id": mms_id}) from None

    async def holding_record(self, mms_id: str, holding_id: str) -> HoldingRecord:
        try:
            return await self._inner.holding_record(mms_id, holding_id)
        except ValueError as error:
            subject = {"mms_id": mms_id, "holding_id": holding_id}
            raise self._unreadable(GET_HOLDING_RECORD, error, subject) from None

    def _unreadable(self, operation: str, error: ValueError, subject: dict[str, str]) -> AlmaError:
        return AlmaError(
            self.institution,
            operation,
            error_message=f"Alma's answer is not readable JSON ({type(error).__name__})",
            subject=subject,
        )
