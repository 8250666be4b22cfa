"""Rule P2: what the inbox keeps of a webhook and the ledger of a request's patron."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from application.scf.requests.request_data import (
    request_from_json,
    request_to_json,
    withheld_contact,
)
from domain.scf.requests.comments import parse_internal_identifier, parse_source_request_tag
from domain.scf.requests.routing import PatronInfo, RemoteStorageRequest
from domain.scf.webhooks import RequestCanceled, classify_webhook, inbox_body

from .samples import CONSORTIUM, SCF

COMMENT = (
    "Rush Patron: Doe, Jane, JD001, jd@example.edu, 1 Main St || request type: HOLD"
    " || Internal identifier: 111 {Source Request 01AAA_AB-111-JD001}"
)


def _canceled(comment: object) -> bytes:
    document = {
        "id": "1",
        "action": "REQUEST",
        "event": {"value": "REQUEST_CANCELED"},
        "institution": {"value": SCF},
        "user_request": {"request_id": "9", "barcode": "AB0001X", "comment": comment},
    }
    return json.dumps(document).encode()


def test_P2_the_inbox_keeps_only_what_the_bridge_reads_of_the_comment() -> None:
    raw = _canceled(COMMENT)
    kept = inbox_body(raw)
    for word in (b"Doe", b"Jane", b"jd@example.edu", b"Main St", b"Rush"):
        assert word not in kept
    event, whole = classify_webhook(kept, CONSORTIUM), classify_webhook(raw, CONSORTIUM)
    assert isinstance(event, RequestCanceled)
    assert isinstance(whole, RequestCanceled)
    assert replace(event, comment=None) == replace(whole, comment=None)
    # C2 reads the same member request from either comment.
    assert parse_source_request_tag(event.comment) == parse_source_request_tag(whole.comment)
    assert parse_internal_identifier(event.comment) == parse_internal_identifier(whole.comment)


def test_P2_a_body_without_patron_data_is_kept_byte_for_byte() -> None:
    for raw in (_canceled(None), b"not json", b"[1, 2]", b'{"action": "LOAN"}'):
        assert inbox_body(raw) is raw


@given(st.text(max_size=80), st.text(max_size=80))
def test_P2_the_reduced_comment_parses_as_the_whole(before: str, after: str) -> None:
    comment = f"{before} Internal identifier: 42 {{Source Request 01AAA_AB-42-u-1}} {after}"
    kept = json.loads(inbox_body(_canceled(comment)))["user_request"]["comment"]
    assert parse_internal_identifier(kept) == parse_internal_identifier(comment)
    assert parse_source_request_tag(kept) == parse_source_request_tag(comment)


def test_P2_a_stored_request_keeps_the_patron_id_and_which_fields_to_read_again() -> None:
    request = RemoteStorageRequest(
        request_id="111",
        request_type="PHYSICAL_TO_DIGITIZATION",
        barcode="B1",
        patron=PatronInfo(name="Doe, Jane", identifier="JD001", email="jd@example.edu"),
    )
    stored = request_to_json(request, 7)
    assert stored["patron"] == {"identifier": "JD001", "withheld": ["name", "email"]}
    back, file_id = request_from_json(stored)
    assert (back.patron, file_id) == (PatronInfo(identifier="JD001"), 7)
    assert back.patron_user_id == "JD001"  # the rules still match the patron (R4, C2)
    assert withheld_contact(stored) == ("name", "email")
    old = {**stored, "patron": {"name": "Doe, Jane", "identifier": "JD001", "address": None}}
    assert withheld_contact(old) == ("name",)  # a row written before P2
