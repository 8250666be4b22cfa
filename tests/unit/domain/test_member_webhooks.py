"""Rules W6, W7 (and W5's skip): what a member's own request or item webhook asks now."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.scf.member_webhooks import (
    ItemChanged,
    MemberBodyMalformed,
    RequestCreated,
    member_event,
)
from domain.scf.webhooks import Rejected, Skipped, WebhookEvent, classify_webhook

from .samples import AB, CD, CONSORTIUM, SCF, fixture_json

REQUEST_BODY = "latoohey-libraryapps-server-webhooks__webhook_request.json"
ITEM_BODY = "latoohey-libraryapps-server-webhooks__webhook_item.json"
REQUEST_WEBHOOK_ID = "5182762615859927411"
ITEM_WEBHOOK_ID = "67418558919233558"


def _request_created(institution: str | None = AB, **request: Any) -> dict[str, Any]:
    """The real REQUEST webhook sample, sent by `institution` as ``REQUEST_CREATED``."""
    document: dict[str, Any] = fixture_json(REQUEST_BODY)
    document["event"]["value"] = "REQUEST_CREATED"
    if institution is None:
        del document["institution"]
    else:
        document["institution"]["value"] = institution
    document["user_request"].update(request)
    return document


def _item(event: str = "ITEM_UPDATED", institution: str = CD) -> dict[str, Any]:
    """The real ITEM webhook sample, sent by `institution` with `event`."""
    document: dict[str, Any] = fixture_json(ITEM_BODY)
    document["event"]["value"] = event
    document["institution"]["value"] = institution
    return document


def _classify(document: Any) -> WebhookEvent:
    return classify_webhook(json.dumps(document).encode(), CONSORTIUM)


# --- W6 -------------------------------------------------------------------------------------


def test_W6_a_members_request_created_is_taken_up_now_by_its_keys() -> None:
    # rule W6: a member's REQUEST_CREATED carries the keys its request is read again by.
    assert _classify(_request_created()) == RequestCreated(
        institution=AB,
        request_id="6944906510004102",
        user_primary_id="6911953020004102",
        mms_id="994526713604102",
        webhook_id=REQUEST_WEBHOOK_ID,
    )


def test_W6_the_member_is_matched_case_insensitively_and_named_by_its_configured_code() -> None:
    # rule W6 (and W5: institution codes compare case-insensitively).
    event = _classify(_request_created(institution=CD.lower()))
    assert isinstance(event, RequestCreated)
    assert event.institution == CD


def test_W6_a_request_without_a_patron_or_bib_still_names_the_request() -> None:
    # rule W6: user and bib are read again from the member's Alma; absent or empty, they are None.
    document = _request_created(mms_id="")
    del document["user_request"]["user_primary_id"]
    event = _classify(document)
    assert isinstance(event, RequestCreated)
    assert (event.request_id, event.user_primary_id, event.mms_id) == (
        "6944906510004102",
        None,
        None,
    )


@pytest.mark.parametrize(
    "request_id", [None, ""], ids=["null", "empty"]
)  # rule W6: the request id is the one key W6 cannot do without
def test_W6_a_request_created_without_a_request_id_is_rejected_naming_it(
    request_id: str | None,
) -> None:
    expected = Rejected("REQUEST_CREATED without user_request.request_id")
    assert _classify(_request_created(request_id=request_id)) == expected
    missing = _request_created()
    del missing["user_request"]["request_id"]
    assert _classify(missing) == expected


def test_W6_a_request_created_without_user_request_is_rejected_naming_the_request_id() -> None:
    # rule W6: no user_request at all is read as an empty one: its request_id is what is missing.
    empty: dict[str, Any] = {}
    for user_request in (None, empty):
        document = _request_created()
        document["user_request"] = user_request
        assert _classify(document) == Rejected("REQUEST_CREATED without user_request.request_id")
    document = _request_created()
    del document["user_request"]
    assert _classify(document) == Rejected("REQUEST_CREATED without user_request.request_id")


def test_W6_request_fields_of_the_wrong_type_are_rejected_by_name() -> None:
    # rule W6: a body whose fields have the wrong types is rejected, never a crash (W5).
    document = _request_created()
    document["user_request"] = ["6944906510004102"]
    assert _classify(document) == Rejected("user_request is not an object")
    assert _classify(_request_created(request_id=6944906510004102)) == Rejected(
        "request_id is not a string"
    )
    assert _classify(_request_created(user_primary_id=42)) == Rejected(
        "user_primary_id is not a string"
    )


def test_W5_a_request_created_in_the_scf_is_recorded_as_skipped() -> None:
    # rules W5, W6: only a *member's* REQUEST_CREATED is forwarded; the SCF's own is skipped.
    for institution in (SCF, SCF.lower()):
        assert _classify(_request_created(institution=institution)) == Skipped(
            "REQUEST event REQUEST_CREATED is not handled",
            REQUEST_WEBHOOK_ID,
            "REQUEST",
            "REQUEST_CREATED",
        )


def test_W5_a_request_created_from_an_unconfigured_institution_is_recorded_as_skipped() -> None:
    # rules W5, W6: the sample's own institution, 01WRLC_AMU, is no member of this consortium.
    assert isinstance(_classify(_request_created(institution="01WRLC_AMU")), Skipped)


def test_W5_a_request_created_without_an_institution_is_recorded_as_skipped() -> None:
    # rules W5, W6: with no sender there is no member to read the request again from.
    assert _classify(_request_created(institution=None)) == Skipped(
        "REQUEST event REQUEST_CREATED is not handled",
        REQUEST_WEBHOOK_ID,
        "REQUEST",
        "REQUEST_CREATED",
    )


def test_W5_other_request_events_of_a_member_are_recorded_as_skipped() -> None:
    # rules W5, W6: the real sample is REQUEST_PLACED_ON_SHELF, which W6 does not act on.
    document = fixture_json(REQUEST_BODY)
    document["institution"]["value"] = AB
    assert _classify(document) == Skipped(
        "REQUEST event REQUEST_PLACED_ON_SHELF is not handled",
        REQUEST_WEBHOOK_ID,
        "REQUEST",
        "REQUEST_PLACED_ON_SHELF",
    )


# --- W7 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["ITEM_CREATED", "ITEM_UPDATED", "ITEM_DELETED"])
def test_W7_a_members_item_event_is_taken_up_now_by_its_keys(event: str) -> None:
    # rule W7: each of the three item events of a member is mirrored now, keyed by barcode.
    assert _classify(_item(event)) == ItemChanged(
        institution=CD,
        event=event,
        barcode="31194012235259",
        mms_id="99170789173604102",
        holding_id="22428694200004102",
        item_pid="23428694190004102",
        webhook_id=ITEM_WEBHOOK_ID,
    )


@pytest.mark.parametrize(
    ("event", "deleted"),
    [("ITEM_CREATED", False), ("ITEM_UPDATED", False), ("ITEM_DELETED", True)],
)
def test_W7_only_item_deleted_is_a_deletion(event: str, deleted: bool) -> None:
    # rule W7: ITEM_DELETED is the one that honours `ignore_delete_files` as `_delete` files do.
    changed = _classify(_item(event))
    assert isinstance(changed, ItemChanged)
    assert changed.deleted is deleted


def test_W7_an_item_without_bib_holding_or_pid_still_names_its_barcode() -> None:
    # rule W7: the state is read again from the member's Alma by barcode; the other keys may lack.
    document = _item()
    del document["item"]["bib_data"]
    document["item"]["holding_data"] = None
    document["item"]["item_data"]["pid"] = ""
    event = _classify(document)
    assert isinstance(event, ItemChanged)
    assert (event.barcode, event.mms_id, event.holding_id, event.item_pid) == (
        "31194012235259",
        None,
        None,
        None,
    )


@pytest.mark.parametrize("barcode", [None, "", "   "], ids=["null", "empty", "blank"])
def test_W7_an_item_event_without_a_barcode_is_rejected_naming_it(barcode: str | None) -> None:
    # rule W7: the barcode is the key the item is mirrored by (N1); without one nothing can be.
    document = _item("ITEM_DELETED")
    document["item"]["item_data"]["barcode"] = barcode
    assert _classify(document) == Rejected("ITEM_DELETED without item.item_data.barcode")


def test_W7_an_item_event_without_item_or_item_data_is_rejected_naming_the_barcode() -> None:
    # rule W7: a missing item or item_data is read as empty: its barcode is what is missing.
    no_item = _item("ITEM_CREATED")
    no_item["item"] = None
    no_item_data = _item("ITEM_CREATED")
    del no_item_data["item"]["item_data"]
    for document in (no_item, no_item_data):
        assert _classify(document) == Rejected("ITEM_CREATED without item.item_data.barcode")


def test_W7_item_fields_of_the_wrong_type_are_rejected_by_name() -> None:
    # rule W7: a body whose fields have the wrong types is rejected, never a crash (W5).
    not_object = _item()
    not_object["item"] = "23428694190004102"
    assert _classify(not_object) == Rejected("item is not an object")
    item_data = _item()
    item_data["item"]["item_data"] = []
    assert _classify(item_data) == Rejected("item_data is not an object")
    holding_data = _item()
    holding_data["item"]["holding_data"] = "22428694200004102"
    assert _classify(holding_data) == Rejected("holding_data is not an object")
    barcode = _item()
    barcode["item"]["item_data"]["barcode"] = 31194012235259
    assert _classify(barcode) == Rejected("barcode is not a string")
    mms_id = _item()
    mms_id["item"]["bib_data"]["mms_id"] = 99170789173604102
    assert _classify(mms_id) == Rejected("mms_id is not a string")


def test_W5_an_item_event_in_the_scf_is_recorded_as_skipped() -> None:
    # rules W5, W7: the SCF's own items are the mirrors; only a member's item is mirrored.
    assert _classify(_item("ITEM_UPDATED", institution=SCF)) == Skipped(
        "action ITEM is not handled", ITEM_WEBHOOK_ID, "ITEM", "ITEM_UPDATED"
    )


def test_W5_an_item_event_from_an_unconfigured_institution_is_recorded_as_skipped() -> None:
    # rules W5, W7: the sample's own institution, 01WRLC_AMU, is no member of this consortium.
    assert _classify(fixture_json(ITEM_BODY)) == Skipped(
        "action ITEM is not handled", ITEM_WEBHOOK_ID, "ITEM", "ITEM_UPDATED"
    )


def test_W5_other_item_events_and_mismatched_pairs_are_recorded_as_skipped() -> None:
    # rules W5, W6, W7: the action and its event must agree; anything else asks nothing now.
    withdrawn = _item("ITEM_WITHDRAWN")
    request_on_item = _item("REQUEST_CREATED")
    item_on_request = _request_created()
    item_on_request["event"]["value"] = "ITEM_CREATED"
    for document in (withdrawn, request_on_item, item_on_request):
        assert isinstance(_classify(document), Skipped)


# --- member_event on its own ----------------------------------------------------------------


def test_W6_W7_member_event_answers_none_for_what_is_not_a_members_event() -> None:
    # rules W5, W6, W7: None is what `classify_webhook` records as skipped.
    document = fixture_json(ITEM_BODY)
    keys: dict[str, Any] = {"webhook_id": ITEM_WEBHOOK_ID}
    assert (
        member_event(document, CONSORTIUM, action="ITEM", event=None, institution=CD, **keys)
        is None
    )
    assert (
        member_event(
            document, CONSORTIUM, action="LOAN", event="ITEM_UPDATED", institution=CD, **keys
        )
        is None
    )
    assert (
        member_event(
            document, CONSORTIUM, action="ITEM", event="ITEM_UPDATED", institution=SCF, **keys
        )
        is None
    )


def test_W7_member_event_raises_a_value_error_naming_what_is_missing() -> None:
    # rule W7: the one exception `member_event` raises is a ValueError that names the field.
    document = fixture_json(ITEM_BODY)
    del document["item"]["item_data"]["barcode"]
    with pytest.raises(
        MemberBodyMalformed, match=r"^ITEM_UPDATED without item\.item_data\.barcode$"
    ):
        member_event(
            document,
            CONSORTIUM,
            action="ITEM",
            event="ITEM_UPDATED",
            institution=AB,
            webhook_id=None,
        )
    assert issubclass(MemberBodyMalformed, ValueError)
