"""The fake Alma's in-memory state and every change made to it.

All mutation lives in :class:`FakeAlmaState`'s methods (defined here and in the ``state_*``
layers it is built from), so the HTTP routes and a later in-memory ``AlmaGateway`` adapter
share one behaviour. Methods take an institution code (the fake routes a request to one by
its API key), raise :class:`~adapters.fake_alma.errors.AlmaError` with Alma's code and message
on a logic failure, and never await: on one event loop each call is atomic, as a single Alma
API call is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.fake_alma.model import (
    Item,
)
from adapters.fake_alma.state_circulation import CirculationState
from adapters.fake_alma.state_sets import SetWriteState


class FakeAlmaState(CirculationState, SetWriteState):
    """The whole fake: institutions, network zone, catalogue, patrons, circulation, call log.

    Built in layers, one module each: ``state_base`` (institutions, keys, conf),
    ``state_catalog`` (bibs, holdings, items), ``state_patrons`` (users, courses),
    ``state_circulation`` (requests, loans, scan-in), ``state_workflows`` (sets, Analytics
    reports, jobs, reading lists) and ``state_sets`` (itemized sets made and filled through the
    API, on top of the workflows layer); this class adds seeding conveniences.
    """

    def seed_item(
        self,
        institution: str,
        *,
        barcode: str,
        library: str,
        location: str,
        mms_id: str | None = None,
        nz_mms_id: str | None = None,
        title: str = "Untitled",
        author: str | None = None,
        call_number: str | None = None,
        item_data: Mapping[str, Any] | None = None,
        holding_data: Mapping[str, Any] | None = None,
        **bib_fields: Any,
    ) -> Item:
        """One call for tests and the demo: reuse or create the bib (by ``mms_id``) and the
        holding at ``library``/``location``, then create the item with ``barcode``."""
        inst = self.institution(institution)
        if mms_id is not None and mms_id in inst.bibs:
            bib = inst.bibs[mms_id]
        else:
            bib = self.create_bib(
                institution,
                mms_id=mms_id,
                nz_mms_id=nz_mms_id,
                title=title,
                author=author,
                **bib_fields,
            )
        holding = next(
            (
                h
                for h in inst.holdings.values()
                if h.mms_id == bib.mms_id and h.library == library and h.location == location
            ),
            None,
        ) or self.create_holding(
            institution, bib.mms_id, library=library, location=location, call_number=call_number
        )
        body = {
            "item_data": {**dict(item_data or {}), "barcode": barcode},
            "holding_data": dict(holding_data or {}),
        }
        return self.create_item(institution, bib.mms_id, holding.holding_id, body)
