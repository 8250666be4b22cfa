"""Rule I8: the SCF holding of a mirrored item, one per bib and resolved location."""

from __future__ import annotations

from domain.scf.items.holdings import (
    ScfLocation,
    holding_matches,
    matching_holding_id,
    resolve_scf_location,
)

from .samples import REMOTE_STORAGE

SCF_LOCATIONS = frozenset({"rs_shared", "rs_shared_1", "rs_folio"})


def test_I8_the_member_location_is_kept_when_the_scf_library_has_that_code() -> None:
    assert resolve_scf_location("rs_shared_1", SCF_LOCATIONS, REMOTE_STORAGE) == ScfLocation(
        "RS", "rs_shared_1", kept_member_code=True
    )


def test_I8_otherwise_the_scf_default_remote_storage_location_is_used() -> None:
    assert resolve_scf_location("rs_shared_in_ab", SCF_LOCATIONS, REMOTE_STORAGE) == ScfLocation(
        "RS", "rs_shared", kept_member_code=False
    )
    assert resolve_scf_location(None, SCF_LOCATIONS, REMOTE_STORAGE).location == "rs_shared"
    assert resolve_scf_location("", SCF_LOCATIONS, REMOTE_STORAGE).location == "rs_shared"


def test_I8_a_holding_is_reused_when_it_is_at_the_resolved_default_location() -> None:
    # the Java app compared the member code here and made a new holding for every item
    resolved = resolve_scf_location("rs_shared_in_ab", SCF_LOCATIONS, REMOTE_STORAGE)
    assert holding_matches("RS", "rs_shared", resolved)
    assert not holding_matches("RS", "rs_shared_in_ab", resolved)


def test_I8_a_holding_at_another_library_or_location_is_not_reused() -> None:
    resolved = ScfLocation("RS", "rs_shared_1", kept_member_code=True)
    assert not holding_matches("OTHER", "rs_shared_1", resolved)
    assert not holding_matches("RS", "rs_shared", resolved)
    assert not holding_matches("RS", "rs_shared_1_annex", resolved)
    assert not holding_matches(None, None, resolved)


def test_I8_the_first_holding_at_the_resolved_location_is_picked_from_the_holdings_list() -> None:
    holdings = {
        "holding": [
            {"holding_id": "221", "library": {"value": "RS"}, "location": {"value": "rs_folio"}},
            {"library": {"value": "RS"}, "location": {"value": "rs_shared"}},
            "junk",
            {"holding_id": "223", "library": {"value": "RS"}, "location": {"value": "rs_shared"}},
            {"holding_id": "224", "library": {"value": "RS"}, "location": {"value": "rs_shared"}},
        ],
        "total_record_count": 4,
    }
    resolved = ScfLocation("RS", "rs_shared", kept_member_code=False)
    assert matching_holding_id(holdings, resolved) == "223"


def test_I8_without_a_matching_holding_one_must_be_created() -> None:
    resolved = ScfLocation("RS", "rs_shared", kept_member_code=False)
    assert matching_holding_id({"total_record_count": 0}, resolved) is None
    assert matching_holding_id({"holding": []}, resolved) is None
    assert matching_holding_id(None, resolved) is None
