"""The catalogue layer of the state: network zone, bibs, holdings and items."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

from adapters.fake_alma import errors, marc, templates
from adapters.fake_alma.clock import alma_date
from adapters.fake_alma.model import (
    Bib,
    Holding,
    Institution,
    Item,
)
from adapters.fake_alma.state_base import TEMP_CODE_KEYS, StateBase, truthy


class CatalogState(StateBase):
    """Bibs (local or linked to the network zone), holdings and physical items."""

    def add_nz_bib(
        self, record: ET.Element | str | None = None, *, mms_id: str | None = None, **fields: Any
    ) -> Bib:
        """Put a record in the network zone (from MARC, or built from ``fields``)."""
        nz = self.network_zone
        mms_id = mms_id or nz.ids.mms_id()
        if mms_id in nz.bibs:
            raise ValueError(f"NZ record {mms_id} is defined twice")
        rec = self._record(record, fields)
        marc.set_controlfield(rec, "001", mms_id)
        now = self._now()
        bib = Bib(mms_id=mms_id, record=rec, created=now, modified=now)
        nz.bibs[mms_id] = bib
        return bib

    @staticmethod
    def _record(record: ET.Element | str | None, fields: Mapping[str, Any]) -> ET.Element:
        if record is None:
            return marc.build_bib_record(fields)
        if isinstance(record, str):
            found = marc.find_record(marc.parse_xml(record))
            if found is None:
                raise errors.bad_body("no <record> element in the bib")
            return found
        return copy.deepcopy(record)

    def _nz_035(self, nz_mms_id: str) -> str:
        return f"(EXLNZ-{self.network_zone.code}){nz_mms_id}"

    def create_bib(
        self,
        institution: str,
        record: ET.Element | str | None = None,
        *,
        mms_id: str | None = None,
        nz_mms_id: str | None = None,
        **fields: Any,
    ) -> Bib:
        """A local bib (``POST /bibs`` with ``<bib><record>…``). With ``nz_mms_id`` the bib is
        linked to that NZ record, which is created from the same data when absent (seeding)."""
        inst = self.institution(institution)
        rec = self._record(record, fields)
        if nz_mms_id is not None:
            if nz_mms_id not in self.network_zone.bibs:
                self.add_nz_bib(copy.deepcopy(rec), mms_id=nz_mms_id)
            if self._nz_035(nz_mms_id) not in marc.system_numbers(rec):
                marc.add_datafield(rec, "035", [("a", self._nz_035(nz_mms_id))])
        mms_id = mms_id or inst.ids.mms_id()
        if mms_id in inst.bibs:
            raise ValueError(f"bib {mms_id} is defined twice in {institution}")
        # Alma keeps the incoming 001 as originating_system_id and writes its own MMS id.
        original_001 = marc.controlfield(rec, "001") or ""
        marc.set_controlfield(rec, "001", mms_id)
        now = self._now()
        bib = Bib(mms_id=mms_id, record=rec, created=now, modified=now, nz_mms_id=nz_mms_id)
        bib.originating_system_id = original_001
        inst.bibs[mms_id] = bib
        return bib

    def create_bib_from_nz(self, institution: str, nz_mms_id: str) -> Bib:
        """``POST /bibs?from_nz_mms_id=``: link a copy of an NZ record into the institution."""
        inst = self.institution(institution)
        if not inst.network_member:
            raise errors.not_in_network(institution)
        nz_bib = self.network_zone.bibs.get(nz_mms_id)
        if nz_bib is None:
            raise errors.nz_record_not_found(nz_mms_id)
        for bib in inst.bibs.values():
            if bib.nz_mms_id == nz_mms_id:
                raise errors.nz_record_already_linked(nz_mms_id, bib.mms_id)
        return self.create_bib(institution, copy.deepcopy(nz_bib.record), nz_mms_id=nz_mms_id)

    def bib(self, institution: str, mms_id: str) -> Bib:
        """A bib, or 402203."""
        bib = self.institution(institution).bibs.get(mms_id)
        if bib is None:
            raise errors.invalid_mms_id(mms_id)
        return bib

    def find_bibs(
        self,
        institution: str,
        *,
        mms_ids: Iterable[str] = (),
        nz_mms_id: str | None = None,
        other_system_id: str | None = None,
    ) -> list[Bib]:
        """``GET /bibs``: by MMS ids (unknown ones skipped), by NZ id, or by 035 value."""
        inst = self.institution(institution)
        wanted = [m for m in mms_ids if m]
        if wanted:
            return [inst.bibs[m] for m in wanted if m in inst.bibs]
        if nz_mms_id:
            return [b for b in inst.bibs.values() if b.nz_mms_id == nz_mms_id]
        if other_system_id:
            return [b for b in inst.bibs.values() if other_system_id in b.other_system_ids()]
        return []

    def create_holding(
        self,
        institution: str,
        mms_id: str,
        *,
        library: str | None = None,
        location: str | None = None,
        call_number: str | None = None,
        record: ET.Element | str | None = None,
        suppress_from_publishing: bool = False,
        holding_id: str | None = None,
    ) -> Holding:
        """``POST /bibs/{mms}/holdings``: from an 852 record, or from library and location."""
        inst = self.institution(institution)
        self.bib(institution, mms_id)
        if record is not None:
            rec = self._record(record, {})
            library, location, _ = marc.holding_location(rec)
            if not library:
                raise errors.mandatory_field_missing("852 $b (library)")
            if not location:
                raise errors.mandatory_field_missing("852 $c (location)")
        else:
            if not library or not location:
                raise errors.mandatory_field_missing("library and location")
            rec = marc.holding_record(library, location, call_number)
        self.location(institution, library, location)
        holding_id = holding_id or inst.ids.holding_id()
        if holding_id in inst.holdings:
            raise ValueError(f"holding {holding_id} is defined twice in {institution}")
        marc.set_controlfield(rec, "001", holding_id)
        marc.set_controlfield(rec, "004", mms_id)
        now = self._now()
        holding = Holding(
            holding_id=holding_id,
            mms_id=mms_id,
            record=rec,
            created=now,
            modified=now,
            suppress_from_publishing=suppress_from_publishing,
        )
        inst.holdings[holding_id] = holding
        return holding

    def holding(self, institution: str, mms_id: str, holding_id: str) -> Holding:
        """A holding of a bib, or Alma's error."""
        self.bib(institution, mms_id)
        holding = self.institution(institution).holdings.get(holding_id)
        if holding is None or holding.mms_id != mms_id:
            raise errors.invalid_holding_id(holding_id)
        return holding

    def holdings_of(self, institution: str, mms_id: str) -> list[Holding]:
        """Holdings of a bib, oldest first."""
        self.bib(institution, mms_id)
        return [h for h in self.institution(institution).holdings.values() if h.mms_id == mms_id]

    def items_of(self, institution: str, mms_id: str, holding_id: str = "ALL") -> list[Item]:
        """Items of a holding, or of every holding of the bib with ``ALL``."""
        inst = self.institution(institution)
        if mms_id not in inst.bibs:
            raise errors.items_search_failed(mms_id, holding_id)
        if holding_id != "ALL":
            holding = inst.holdings.get(holding_id)
            if holding is None or holding.mms_id != mms_id:
                raise errors.items_search_failed(mms_id, holding_id)
        return [
            i
            for i in inst.items.values()
            if i.mms_id == mms_id and (holding_id == "ALL" or i.holding_id == holding_id)
        ]

    def item(self, institution: str, mms_id: str, holding_id: str, item_pid: str) -> Item:
        """An item at exactly this bib/holding/pid, or 401683."""
        item = self.institution(institution).items.get(item_pid)
        if item is None or item.mms_id != mms_id or item.holding_id != holding_id:
            raise errors.item_not_found(mms_id, holding_id, item_pid)
        return item

    def item_by_pid(self, institution: str, item_pid: str) -> Item | None:
        """An item by pid alone, or None."""
        return self.institution(institution).items.get(item_pid)

    def item_by_barcode(self, institution: str, barcode: str) -> Item:
        """``GET /items?item_barcode=``: the item, or 401689."""
        inst = self.institution(institution)
        pid = inst.barcodes.get(barcode)
        if pid is None:
            raise errors.no_items_for_barcode(barcode)
        return inst.items[pid]

    def find_item(self, institution: str, barcode: str) -> Item | None:
        """The item with this barcode, or None (a convenience for tests and the demo)."""
        pid = self.institution(institution).barcodes.get(barcode)
        return self.institution(institution).items.get(pid) if pid else None

    def _code_pair(
        self, value: Any, descriptions: Mapping[str, str | None] | None = None
    ) -> dict[str, Any]:
        # Clients send {"value": "X"} or {"value": "X", "desc": "…"}; Alma answers with the
        # code table's description, which the fake approximates.
        code = value.get("value") if isinstance(value, Mapping) else value
        if code is None:
            return templates.code_desc(None, None)
        code = str(code)
        if descriptions is not None and code in descriptions:
            return templates.code_desc(code, descriptions[code])
        if code == "":
            return templates.code_desc("", None)
        desc = value.get("desc") if isinstance(value, Mapping) else None
        return templates.code_desc(code, desc if desc is not None else code)

    def _apply_item_fields(
        self, inst: Institution, item: Item, body: Mapping[str, Any], *, replace: bool
    ) -> None:
        item_data = body.get("item_data")
        if not isinstance(item_data, Mapping):
            raise errors.mandatory_field_missing("item_data")
        blank = templates.blank_item_data()
        for key, default in blank.items():
            if key in templates.ITEM_COMPUTED_KEYS:
                continue
            if key not in item_data:
                # PUT replaces the whole item: a key left out is cleared (SCF rule I11).
                if replace:
                    item.data[key] = default
                continue
            value = item_data[key]
            if isinstance(default, dict):
                table: Mapping[str, str | None] | None = None
                if key == "physical_material_type":
                    table = dict(templates.MATERIAL_TYPES)
                if key == "provenance":
                    names = {code: i.name for code, i in self.institutions.items()}
                    table = {**names, "": None}
                item.data[key] = self._code_pair(value, table)
            elif isinstance(default, bool):
                item.data[key] = truthy(value) if isinstance(value, str) else bool(value)
            else:
                item.data[key] = value if value is None else str(value)
        holding_data = body.get("holding_data")
        holding_data = holding_data if isinstance(holding_data, Mapping) else {}
        for key, default in templates.blank_item_holding_fields().items():
            if key not in holding_data:
                if replace:
                    item.holding_fields[key] = default
                continue
            value = holding_data[key]
            if key in TEMP_CODE_KEYS:
                pair = self._code_pair(value)
                if key == "temp_library" and pair["value"]:
                    pair["desc"] = self._library_name(inst, pair["value"]) or pair["desc"]
                item.holding_fields[key] = pair
            elif key == "in_temp_location":
                item.holding_fields[key] = truthy(value) if isinstance(value, str) else bool(value)
            else:
                item.holding_fields[key] = "" if value is None else str(value)
        if item.holding_fields["in_temp_location"]:
            temp_lib = item.holding_fields["temp_library"].get("value")
            temp_loc = item.holding_fields["temp_location"].get("value")
            if temp_lib and temp_loc:
                item.holding_fields["temp_location"]["desc"] = self._location_name(
                    inst, temp_lib, temp_loc
                )

    def _set_item_location(self, inst: Institution, item: Item, holding: Holding) -> None:
        item.data["library"] = templates.code_desc(
            holding.library, self._library_name(inst, holding.library)
        )
        item.data["location"] = templates.code_desc(
            holding.location, self._location_name(inst, holding.library, holding.location)
        )

    def create_item(
        self, institution: str, mms_id: str, holding_id: str, body: Mapping[str, Any]
    ) -> Item:
        """``POST /bibs/{mms}/holdings/{hid}/items`` with an item JSON body.

        The item takes the holding's library and location (the SCF bridge removes them, rule
        I9); ids, dates, status and process type are Alma's to set, whatever the body says."""
        inst = self.institution(institution)
        holding = self.holding(institution, mms_id, holding_id)
        item_data = body.get("item_data")
        barcode = str(item_data.get("barcode") or "") if isinstance(item_data, Mapping) else ""
        if not barcode:
            raise errors.mandatory_field_missing("barcode")
        if barcode in inst.barcodes:
            raise errors.barcode_exists(barcode)
        pid = inst.ids.item_pid()
        item = Item(
            pid=pid,
            mms_id=mms_id,
            holding_id=holding_id,
            data=templates.blank_item_data(),
            holding_fields=templates.blank_item_holding_fields(),
        )
        self._apply_item_fields(inst, item, body, replace=True)
        today = alma_date(self._now())
        item.data["pid"] = pid
        item.data["creation_date"] = today
        item.data["modification_date"] = today
        if not item.data["arrival_date"]:
            item.data["arrival_date"] = today
        self._set_item_location(inst, item, holding)
        inst.items[pid] = item
        inst.barcodes[item.barcode] = pid
        return item

    def update_item(
        self,
        institution: str,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        body: Mapping[str, Any],
    ) -> Item:
        """``PUT …/items/{pid}``: replace the item's updatable fields with the body's."""
        inst = self.institution(institution)
        item = self.item(institution, mms_id, holding_id, item_pid)
        item_data = body.get("item_data")
        new_barcode = str(item_data.get("barcode") or "") if isinstance(item_data, Mapping) else ""
        if not new_barcode:
            raise errors.mandatory_field_missing("barcode")
        if new_barcode != item.barcode and new_barcode in inst.barcodes:
            raise errors.barcode_exists(new_barcode)
        # Validate before touching the record, so a failed PUT changes nothing.
        probe = copy.deepcopy(item)
        self._apply_item_fields(inst, probe, body, replace=True)
        old_barcode = item.barcode
        item.data = probe.data
        item.holding_fields = probe.holding_fields
        item.data["modification_date"] = alma_date(self._now())
        if new_barcode != old_barcode:
            del inst.barcodes[old_barcode]
            inst.barcodes[new_barcode] = item.pid
        return item

    def delete_item(
        self,
        institution: str,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        *,
        override: bool = False,
        holdings: str = "retain",
    ) -> None:
        """``DELETE …/items/{pid}``: refused for an item on loan or requested unless
        ``override``; ``holdings=delete`` also removes a holding left empty."""
        inst = self.institution(institution)
        item = self.item(institution, mms_id, holding_id, item_pid)
        loan = self._active_loan(inst, item.pid)
        requests = [r for r in inst.requests.values() if r.active and r.item_pid == item.pid]
        if (loan is not None or requests) and not override:
            raise errors.item_on_loan_cannot_delete()
        now = self._now()
        if loan is not None:
            loan.status = "COMPLETE"
            loan.returned_at = now
        for request in requests:
            self._close_request(request, "ItemDeleted", None, None, now)
        del inst.items[item.pid]
        inst.barcodes.pop(item.barcode, None)
        left = [i for i in inst.items.values() if i.holding_id == holding_id]
        if holdings == "delete" and not left:
            del inst.holdings[holding_id]
