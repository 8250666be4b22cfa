"""Rules I9 and I11: the SCF mirror's item record, from a real Alma item."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from domain.scf.items.item_records import (
    ItemUpdate,
    member_fingerprint,
    new_scf_item,
    updated_scf_item,
)
from domain.shared.errors import MalformedItem

from .samples import AB, member_item


def test_I9_the_mirror_has_the_X_barcode_and_the_owner_as_provenance() -> None:
    body = new_scf_item(member_item(), AB)
    assert body["item_data"]["barcode"] == "32101108168939X"
    assert body["item_data"]["provenance"] == {"value": AB}


def test_I9_what_belongs_to_the_member_alone_is_not_mirrored() -> None:
    body = new_scf_item(member_item(), AB)
    for field in (
        "pid",
        "po_line",
        "library",
        "location",
        "policy",
        "internal_note_1",
        "internal_note_3",
    ):
        assert field not in body["item_data"]
    assert "link" not in body
    for field in ("temp_library", "in_temp_location", "temp_location", "temp_policy"):
        assert field not in body["holding_data"]


def test_I9_everything_else_of_the_member_item_is_kept() -> None:
    original = member_item()
    body = new_scf_item(original, AB)
    assert body["bib_data"] == original["bib_data"]
    assert body["holding_data"]["call_number"] == "PS3566.R3944 A614 2020"
    kept = set(original["item_data"]) - {
        "pid", "po_line", "library", "location", "policy", "internal_note_1", "internal_note_3",
        "barcode", "provenance",
    }  # fmt: skip
    for field in kept:
        assert body["item_data"][field] == original["item_data"][field], field


def test_I9_the_member_item_is_never_changed() -> None:
    original = member_item()
    pristine = copy.deepcopy(original)
    body = new_scf_item(original, AB)
    body["bib_data"]["network_number"].append("changed")
    assert original == pristine


def test_I9_an_item_without_holding_data_is_still_mirrored() -> None:
    original = member_item()
    del original["holding_data"]
    assert "holding_data" not in new_scf_item(original, AB)


def test_I9_an_item_record_without_item_data_or_barcode_is_a_caller_error() -> None:
    with pytest.raises(MalformedItem) as raised:
        new_scf_item({"bib_data": {}}, AB)
    assert raised.value.institution == AB
    original = member_item()
    original["item_data"]["barcode"] = ""
    with pytest.raises(MalformedItem, match="no barcode"):
        new_scf_item(original, AB)


def _mirror() -> dict[str, Any]:
    """The SCF copy as Alma would hold it after I9, with the SCF's own ids and state."""
    scf = new_scf_item(member_item(), AB)
    scf["bib_data"]["mms_id"] = "9911110000561"
    scf["holding_data"]["holding_id"] = "2222220000561"
    scf["item_data"].update(
        pid="2333330000561",
        library={"value": "RS", "desc": "Remote Storage"},
        location={"value": "rs_shared", "desc": "Shared"},
        policy={"value": "SCF", "desc": "SCF loan"},
        process_type={"value": "LOAN", "desc": "Loan"},
        base_status={"value": "0", "desc": "Item not in place"},
        creation_date="2024-01-02Z",
        modification_date="2024-01-02Z",
        internal_note_1="shelved in bay 4",
        statistics_note_2="SCF stats",
    )
    scf["link"] = (
        "https://api/almaws/v1/bibs/9911110000561/holdings/2222220000561/items/2333330000561"
    )
    return scf


def test_I11_an_unchanged_member_item_needs_no_put() -> None:
    scf = _mirror()
    update = updated_scf_item(scf, member_item())
    assert update == ItemUpdate(scf, changed=False, changed_fields=())


def test_I11_member_metadata_is_copied_over_the_scf_item() -> None:
    member = member_item()
    member["item_data"]["description"] = "v.2"
    member["item_data"]["public_note"] = "Fragile"
    update = updated_scf_item(_mirror(), member)
    assert update.changed
    assert update.changed_fields == ("description", "public_note")
    assert update.body["item_data"]["description"] == "v.2"
    assert update.body["item_data"]["public_note"] == "Fragile"


def test_I11_what_the_scf_owns_stays_the_scf_own() -> None:
    scf = _mirror()
    member = member_item()
    member["item_data"].update(
        alternative_call_number="ALT 1",
        storage_location_id="S-9",
        internal_note_1="member note 1",
        internal_note_3="member note 3",
        statistics_note_2="member stats",
        policy={"value": "7-Day"},
    )
    member["holding_data"]["call_number"] = "QA76 .X1"
    member["bib_data"]["title"] = "Another title"
    update = updated_scf_item(scf, member)
    assert update.body == scf
    assert not update.changed


def test_I11_circulation_state_of_the_member_copy_is_not_copied() -> None:
    member = member_item()
    member["item_data"]["process_type"] = {"value": "", "desc": None}
    member["item_data"]["requested"] = True
    member["item_data"]["po_line"] = "POL-1"
    assert not updated_scf_item(_mirror(), member).changed


def test_I11_a_code_table_value_with_other_wording_is_not_a_change() -> None:
    member = member_item()
    member["item_data"]["physical_material_type"] = {"value": "BOOK", "desc": "Livre"}
    assert not updated_scf_item(_mirror(), member).changed
    member["item_data"]["physical_material_type"] = {"value": "DVD", "desc": "DVD"}
    update = updated_scf_item(_mirror(), member)
    assert update.body["item_data"]["physical_material_type"] == {"value": "DVD", "desc": "DVD"}


def test_I11_null_empty_and_missing_are_the_same_nothing() -> None:
    scf = _mirror()
    scf["item_data"]["edition"] = ""
    del scf["item_data"]["imprint"]
    member = member_item()
    assert member["item_data"]["edition"] is None
    assert not updated_scf_item(scf, member).changed


def test_I11_neither_input_is_changed() -> None:
    scf, member = _mirror(), member_item()
    member["item_data"]["description"] = "v.3"
    pristine = (copy.deepcopy(scf), copy.deepcopy(member))
    update = updated_scf_item(scf, member)
    update.body["item_data"]["description"] = "mutated"
    assert (scf, member) == pristine


def test_I11_item_records_without_item_data_are_a_caller_error() -> None:
    with pytest.raises(MalformedItem) as raised:
        updated_scf_item(_mirror(), {})
    assert raised.value.barcode == "32101108168939X"
    with pytest.raises(MalformedItem):
        updated_scf_item({}, member_item())
    with pytest.raises(MalformedItem):
        member_fingerprint({"item_data": None})


def test_I11_the_fingerprint_is_the_sha256_of_exactly_the_copied_fields() -> None:
    member = member_item()
    copied = {
        field: value
        for field, value in member["item_data"].items()
        if field
        not in {
            "pid", "barcode", "provenance", "library", "location", "alternative_call_number",
            "alternative_call_number_type", "storage_location_id", "internal_note_1",
            "internal_note_3", "statistics_note_2", "policy", "po_line", "creation_date",
            "modification_date", "base_status", "process_type", "requested", "awaiting_reshelving",
        }
    }  # fmt: skip
    canonical = json.dumps(copied, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert member_fingerprint(member) == hashlib.sha256(canonical.encode()).hexdigest()


def test_I11_the_fingerprint_ignores_what_an_update_would_not_copy() -> None:
    member = member_item()
    before = member_fingerprint(member)
    member["item_data"]["internal_note_1"] = "changed"
    member["item_data"]["modification_date"] = "2030-01-01Z"
    member["holding_data"]["call_number"] = "changed"
    assert member_fingerprint(member) == before


def test_I11_the_fingerprint_changes_with_any_copied_field() -> None:
    member = member_item()
    before = member_fingerprint(member)
    member["item_data"]["description"] = "v.2"
    assert member_fingerprint(member) != before
