"""`HoldingsReader` over Alma's REST API: holdings list and holdings record (rules H2, B4).

The record is read from the JSON answer's ``anies`` (see `requests_kit`): Alma's JSON form of
``GET /bibs/{mms}/holdings/{hid}`` carries the same ``<record>`` its XML form embeds
(``ref:tulibraries-alma_rb__single_holding.json`` against
``ref:scriptotek-php-alma-client__holding_response.xml``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from adapters.alma_http.requests_kit import (
    AlmaCaller,
    code,
    desc,
    listed,
    local_name,
    parse_xml,
    plain,
    retyped,
    text,
)
from application.ports.alma.holdings import (
    HoldingHasNoRecord,
    HoldingNotFound,
    HoldingRecord,
    HoldingSummary,
)
from application.shared.alma import AlmaError

LIST_HOLDINGS = "list holdings"
GET_HOLDING_RECORD = "get holding record"
_HOLDING_NOT_FOUND = frozenset({"402210"})  # the fake's code for an unknown holding (unverified)


def holding_summaries(data: Mapping[str, Any]) -> list[HoldingSummary]:
    """The holdings of a list answer (``ref:scriptotek-php-alma-client__holdings_response.json``),
    in Alma's order; an entry without a holding id is no holding and is left out."""
    found = []
    for entry in listed(data, "holding"):
        holding_id = text(entry.get("holding_id"))
        if holding_id is None:
            continue
        found.append(
            HoldingSummary(
                holding_id=holding_id,
                library_code=code(entry.get("library")),
                library_name=desc(entry.get("library")),
                location_code=code(entry.get("location")),
                location_name=desc(entry.get("location")),
                call_number=text(entry.get("call_number")),
            )
        )
    return found


def holding_record_of(
    document: str | None, mms_id: str, holding_id: str, *, institution: str
) -> HoldingRecord:
    """The ``<record>`` of a holding answer: ``document`` is the record itself (JSON's
    ``anies``) or a ``<holding>`` around it (XML); `HoldingHasNoRecord` when there is none."""
    subject = {"mms_id": mms_id, "holding_id": holding_id}
    missing = HoldingHasNoRecord(
        institution,
        GET_HOLDING_RECORD,
        error_message="Alma's answer holds no MARC <record>",
        subject=subject,
    )
    if document is None:
        raise missing
    try:
        root = parse_xml(document)
    except (ET.ParseError, ValueError) as exc:
        raise AlmaError(
            institution,
            GET_HOLDING_RECORD,
            error_message=f"the holding's MARC record is not readable XML ({exc})",
            subject=subject,
        ) from None
    if local_name(root.tag) == "record":
        # As it came: the text Alma sent, not a re-serialisation of it.
        return HoldingRecord(mms_id, holding_id, document.strip())
    record = next((e for e in root.iter() if local_name(e.tag) == "record"), None)
    if record is None:
        raise missing
    return HoldingRecord(mms_id, holding_id, ET.tostring(record, encoding="unicode").strip())


def holdings_error(error: AlmaError) -> AlmaError:
    """The port's typed error for an Alma failure of these calls (the rest unchanged)."""
    if plain(error) and error.error_code in _HOLDING_NOT_FOUND:
        return retyped(error, HoldingNotFound)
    return error


class HttpHoldingsReader(AlmaCaller):
    """One institution's holdings through the process-wide `AlmaHttpClient` (H2, B4)."""

    async def holdings_of(self, mms_id: str) -> list[HoldingSummary]:
        try:
            data = await self.get_json(
                "bibs", mms_id, "holdings", operation=LIST_HOLDINGS, subject={"mms_id": mms_id}
            )
        except AlmaError as exc:
            raise holdings_error(exc) from None
        return holding_summaries(data)

    async def holding_record(self, mms_id: str, holding_id: str) -> HoldingRecord:
        try:
            document = await self.get_document(
                "bibs",
                mms_id,
                "holdings",
                holding_id,
                operation=GET_HOLDING_RECORD,
                subject={"mms_id": mms_id, "holding_id": holding_id},
            )
        except AlmaError as exc:
            raise holdings_error(exc) from None
        return holding_record_of(document, mms_id, holding_id, institution=self.institution)
