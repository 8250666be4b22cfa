"""Rule R8: the cancellation table of research §7.6, as data."""

from __future__ import annotations

from domain.scf.requests.cancellations import (
    CANCELLATION_TABLE,
    ITEM_ON_LOAN,
    NOT_FULFILLED_BY_SCF,
    SCF_CANCELED_ITEM_REQUEST,
    SCF_CANCELED_MAPPED_REQUEST,
    SCF_CANCELED_TAGGED_REQUEST,
    SWITCHED_TO_REMOTE_STORAGE,
    CancelScope,
    RequestOwner,
)


def test_R8_the_five_rows_reason_note_and_notify_flag() -> None:
    rows = [(row.reason.value, row.note, row.notify_user) for row in CANCELLATION_TABLE]
    assert rows == [
        ("CannotBeFulfilled", "Request could not be fulfilled by the SCF.", True),
        ("CannotBeFulfilled", "Item is on loan", None),
        ("CannotBeFulfilled", "Remote storage cannot fulfill the request", None),
        ("CannotBeFulfilled", "Request could not be fulfilled by the SCF.", True),
        ("RequestSwitched", "Request will be handled by the remote storage.", False),
    ]


def test_R8_each_row_names_its_endpoint_and_whose_request_it_is() -> None:
    assert (NOT_FULFILLED_BY_SCF.scope, NOT_FULFILLED_BY_SCF.owner) == (
        CancelScope.SOURCE_REQUEST,
        RequestOwner.SOURCE,
    )
    assert ITEM_ON_LOAN.scope is CancelScope.ITEM_REQUEST
    assert SCF_CANCELED_ITEM_REQUEST.owner is RequestOwner.PROVENANCE
    assert SCF_CANCELED_TAGGED_REQUEST.scope is CancelScope.USER_REQUEST
    assert SCF_CANCELED_TAGGED_REQUEST.owner is RequestOwner.TAG
    assert SWITCHED_TO_REMOTE_STORAGE.scope is CancelScope.BIB_REQUEST


def test_R8_query_parameters_in_the_java_order_notify_only_when_the_java_app_sent_it() -> None:
    assert list(NOT_FULFILLED_BY_SCF.query().items()) == [
        ("reason", "CannotBeFulfilled"),
        ("notify_user", "true"),
        ("note", "Request could not be fulfilled by the SCF."),
    ]
    assert ITEM_ON_LOAN.query() == {"reason": "CannotBeFulfilled", "note": "Item is on loan"}
    assert SWITCHED_TO_REMOTE_STORAGE.query()["notify_user"] == "false"


def test_R8_C2_a_mapped_cancellation_tells_the_patron_like_the_tagged_row() -> None:
    assert SCF_CANCELED_MAPPED_REQUEST.query() == SCF_CANCELED_TAGGED_REQUEST.query()
    assert SCF_CANCELED_MAPPED_REQUEST.owner is RequestOwner.SOURCE
    assert SCF_CANCELED_MAPPED_REQUEST not in CANCELLATION_TABLE
