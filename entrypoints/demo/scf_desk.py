"""What SCF staff do at their desk in the demo, through the (fake) Alma REST API.

Returning a mirror's loan and cancelling a request are what make real Alma send `LOAN_RETURNED`
and `REQUEST_CANCELED`; doing them through the API first keeps the demo's Alma consistent with
the webhooks it then sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ReturnedLoan:
    """A loan the SCF desk returned: whose it was and its id, as LOAN_RETURNED carries them."""

    user_id: str
    loan_id: str | None


class ScfDesk:
    """The SCF's circulation desk, over Alma's API with the SCF's key."""

    def __init__(
        self, client: httpx.AsyncClient, gateway: str, api_key: str, library: str, desk: str
    ) -> None:
        self._client = client
        self._base = f"{gateway.rstrip('/')}/almaws/v1"
        self._headers = {"Authorization": f"apikey {api_key}", "Accept": "application/json"}
        self._library = library
        self._desk = desk

    async def _call(self, method: str, path: str, **params: str) -> Any:
        answer = await self._client.request(
            method, self._base + path, params=params, headers=self._headers, follow_redirects=True
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    async def item(self, barcode: str) -> dict[str, Any]:
        """An SCF item by barcode."""
        found: dict[str, Any] = await self._call("GET", "/items", item_barcode=barcode)
        return found

    async def return_loan(self, barcode: str, borrower: str) -> ReturnedLoan:
        """Scan the item in at the SCF desk, which returns its active loan."""
        item = await self.item(barcode)
        loans = await self._call("GET", f"/users/{borrower}/loans")
        loan_id = next(
            (
                loan.get("loan_id")
                for loan in (loans or {}).get("item_loan") or []
                if loan.get("item_barcode") == barcode
            ),
            None,
        )
        mms_id = item["bib_data"]["mms_id"]
        holding_id = item["holding_data"]["holding_id"]
        pid = item["item_data"]["pid"]
        await self._call(
            "POST",
            f"/bibs/{mms_id}/holdings/{holding_id}/items/{pid}",
            op="scan",
            library=self._library,
            circ_desk=self._desk,
            done="true",
        )
        return ReturnedLoan(borrower, loan_id)

    async def cancel_request(self, mms_id: str, request_id: str) -> str | None:
        """Cancel an SCF request through its bib; its comment (what the webhook carries)."""
        request = await self._call("GET", f"/bibs/{mms_id}/requests/{request_id}")
        comment = (request or {}).get("comment")
        await self._call(
            "DELETE",
            f"/bibs/{mms_id}/requests/{request_id}",
            reason="CannotBeFulfilled",
            note="Cancelled at the SCF desk (demo)",
            notify_user="false",
        )
        return comment if isinstance(comment, str) else None
