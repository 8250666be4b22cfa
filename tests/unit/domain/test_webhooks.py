"""Rules W1, W3, W4, W5: what each Alma webhook asks of the bridge."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.scf.institutions import Consortium, Institution
from domain.scf.webhooks import (
    ItemsSyncDue,
    JobFailed,
    LoanReturned,
    Rejected,
    RequestCanceled,
    RequestsSyncDue,
    Skipped,
    SyncKind,
    challenge_answer,
    classify_webhook,
    dedupe_key,
)

from .samples import AB, CD, CONSORTIUM, REMOTE_STORAGE, SCF, fixture_bytes, fixture_json

LOAN_RETURNED_BODY = "lulibrary-alma-webhook-handler__loan_returned_event.body.json"
LOAN_CREATED_BODY = "lulibrary-alma-webhook-handler__loan_created_event.body.json"
REQUEST_CANCELED_BODY = "lulibrary-alma-webhook-handler__request_canceled_event.body.json"
PLACED_ON_SHELF_BODY = "lulibrary-alma-webhook-handler__request_placed_on_shelf_event.body.json"
JOB_END_BODY = "mlibrary-alma-events__publishing_job_response.json"


def _encode(document: Any) -> bytes:
    return json.dumps(document).encode()


def _job_end(job_id: str, institution: str | None, status: str = "COMPLETED_SUCCESS") -> bytes:
    document = fixture_json(JOB_END_BODY)
    document["job_instance"]["job_info"]["id"] = job_id
    document["job_instance"]["status"]["value"] = status
    if institution is None:
        del document["institution"]
    else:
        document["institution"]["value"] = institution
    return _encode(document)


def _from_scf(name: str, institution: str = SCF, **payload: Any) -> bytes:
    document = fixture_json(name)
    document["institution"]["value"] = institution
    key = "item_loan" if "item_loan" in document else "user_request"
    document[key].update(payload)
    return _encode(document)


# --- W1 -------------------------------------------------------------------------------------


def test_W1_the_challenge_is_echoed_as_json() -> None:
    assert challenge_answer("abc123") == {"challenge": "abc123"}


# --- W3 -------------------------------------------------------------------------------------


def test_W3_a_webhook_dedupes_on_its_id() -> None:
    assert dedupe_key(fixture_bytes(JOB_END_BODY)) == "16501890430006381"


def test_W3_a_body_without_an_id_dedupes_on_the_sha256_of_its_bytes() -> None:
    body = b'{"action": "JOB_END"}'
    assert dedupe_key(body) == "sha256:" + hashlib.sha256(body).hexdigest()


def test_W3_a_body_that_is_not_json_dedupes_on_its_sha256() -> None:
    body = b"\xff not json"
    assert dedupe_key(body) == "sha256:" + hashlib.sha256(body).hexdigest()


def test_W3_an_id_that_is_not_a_plain_token_is_not_trusted_as_a_key() -> None:
    for webhook_id in (12345, "", "a b", "sha256:abc", "x" * 129, None):
        body = _encode({"id": webhook_id})
        assert dedupe_key(body) == "sha256:" + hashlib.sha256(body).hexdigest()


@given(st.binary())
def test_W3_dedupe_key_never_raises(body: bytes) -> None:
    assert dedupe_key(body)


# --- W4 -------------------------------------------------------------------------------------


def test_W4_a_publishing_job_of_the_sending_institution_makes_its_items_sync_due() -> None:
    event = classify_webhook(_job_end("S987654321", AB), CONSORTIUM)
    assert event == ItemsSyncDue(AB, "S987654321", "16501890430006381", "COMPLETED_SUCCESS")


def test_W4_the_same_job_id_sent_by_the_other_institution_is_its_requests_job() -> None:
    # conf.json: S987654321 is AB's publishing job and CD's requests job
    event = classify_webhook(_job_end("S987654321", CD), CONSORTIUM)
    assert event == RequestsSyncDue(CD, "S987654321", "16501890430006381", "COMPLETED_SUCCESS")
    event = classify_webhook(_job_end("S123456789", AB), CONSORTIUM)
    assert event == RequestsSyncDue(AB, "S123456789", "16501890430006381", "COMPLETED_SUCCESS")


def test_W4_the_sending_institution_is_matched_case_insensitively() -> None:
    event = classify_webhook(_job_end("S123456789", CD.lower()), CONSORTIUM)
    assert isinstance(event, ItemsSyncDue)
    assert event.institution == CD


def test_W4_an_ambiguous_job_id_from_an_unrelated_sender_is_skipped_naming_the_candidates() -> None:
    event = classify_webhook(_job_end("S987654321", "01UMICH_INST"), CONSORTIUM)
    assert isinstance(event, Skipped)
    assert "01AAA_AB (items job)" in event.reason
    assert "01AAA_CD (requests job)" in event.reason
    assert event.webhook_id == "16501890430006381"
    assert event.action == "JOB_END"


def test_W4_an_ambiguous_job_id_without_a_sending_institution_is_skipped() -> None:
    event = classify_webhook(_job_end("S987654321", None), CONSORTIUM)
    assert isinstance(event, Skipped)
    assert "ambiguous" in event.reason


def test_W4_a_job_id_owned_by_one_institution_only_needs_no_sender() -> None:
    solo = Consortium(
        remote_storage=REMOTE_STORAGE,
        institutions=(Institution(AB, publishing_job_id="S1", requests_job_id="S2"),),
    )
    assert isinstance(classify_webhook(_job_end("S1", "01OTHER"), solo), ItemsSyncDue)
    assert isinstance(classify_webhook(_job_end("S2", None), solo), RequestsSyncDue)


def test_W4_an_unknown_job_id_is_recorded_as_skipped() -> None:
    event = classify_webhook(fixture_bytes(JOB_END_BODY), CONSORTIUM)
    assert event == Skipped(
        "job S16359061320006381 is not the publishing or requests job of any member institution",
        "16501890430006381",
        "JOB_END",
        None,
    )


def test_W4_the_scf_own_entry_is_never_a_job_owner() -> None:
    with_scf = Consortium(
        remote_storage=REMOTE_STORAGE,
        institutions=(Institution(SCF, publishing_job_id="S555"), Institution(AB)),
    )
    assert isinstance(classify_webhook(_job_end("S555", SCF), with_scf), Skipped)


def test_W4_an_institution_with_one_id_as_both_its_jobs_is_ambiguous_not_guessed() -> None:
    same = Consortium(
        remote_storage=REMOTE_STORAGE,
        institutions=(Institution(AB, publishing_job_id="S7", requests_job_id="S7"),),
    )
    event = classify_webhook(_job_end("S7", AB), same)
    assert isinstance(event, Skipped)
    assert "01AAA_AB (items job), 01AAA_AB (requests job)" in event.reason


def test_W4_a_completed_failed_job_is_recorded_and_not_synced() -> None:
    event = classify_webhook(_job_end("S123456789", AB, "COMPLETED_FAILED"), CONSORTIUM)
    assert event == JobFailed(
        AB, SyncKind.REQUESTS, "S123456789", "16501890430006381", "COMPLETED_FAILED"
    )


def test_W4_the_real_failed_job_sample_is_recognised() -> None:
    document = json.loads(
        fixture_bytes(JOB_END_BODY)
        .replace(b"COMPLETED_SUCCESS", b"COMPLETED_FAILED")
        .replace(b"S16359061320006381", b"S987654321")
    )
    document["institution"]["value"] = AB
    event = classify_webhook(_encode(document), CONSORTIUM)
    assert isinstance(event, JobFailed)
    assert event.kind is SyncKind.ITEMS


def test_W4_a_job_end_without_a_status_is_still_due() -> None:
    document = json.loads(_job_end("S987654321", AB))
    del document["job_instance"]["status"]
    del document["job_instance"]["id"]
    assert classify_webhook(_encode(document), CONSORTIUM) == ItemsSyncDue(
        AB, "S987654321", None, None
    )


def test_W4_a_job_end_without_a_job_id_is_rejected() -> None:
    for job_instance in (None, {}, {"job_info": None}, {"job_info": {"id": ""}}):
        body = _encode({"action": "JOB_END", "job_instance": job_instance})
        assert classify_webhook(body, CONSORTIUM) == Rejected(
            "JOB_END without job_instance.job_info.id"
        )


# --- W5 -------------------------------------------------------------------------------------


def test_W5_a_loan_returned_on_a_mirror_in_the_scf_scans_in_the_member_barcode() -> None:
    event = classify_webhook(_from_scf(LOAN_RETURNED_BODY, item_barcode="12345X"), CONSORTIUM)
    assert event == LoanReturned("12345", "12345X", "18263808770001221", "LBAAJH")


def test_W5_the_scf_is_recognised_case_insensitively() -> None:
    body = _from_scf(LOAN_RETURNED_BODY, SCF.lower(), item_barcode="12345X")
    assert isinstance(classify_webhook(body, CONSORTIUM), LoanReturned)


def test_W5_N1_a_loan_returned_on_a_barcode_without_X_is_not_ours() -> None:
    event = classify_webhook(_from_scf(LOAN_RETURNED_BODY), CONSORTIUM)
    assert event == Skipped("barcode 12345 is not an SCF mirror (N1)", "1452370645077141593",
                            "LOAN", "LOAN_RETURNED")  # fmt: skip


def test_W5_a_loan_returned_at_a_member_institution_is_skipped() -> None:
    event = classify_webhook(fixture_bytes(LOAN_RETURNED_BODY), CONSORTIUM)
    assert isinstance(event, Skipped)
    assert event.reason == "LOAN_RETURNED from 44LAN_INST, not from the SCF 01AAA_RS"


def test_W5_a_loan_event_without_an_institution_is_not_from_the_scf() -> None:
    document = json.loads(_from_scf(LOAN_RETURNED_BODY, item_barcode="1X"))
    document["institution"] = None
    assert isinstance(classify_webhook(_encode(document), CONSORTIUM), Skipped)


def test_W5_other_loan_events_are_recorded_as_skipped() -> None:
    event = classify_webhook(_from_scf(LOAN_CREATED_BODY, item_barcode="1X"), CONSORTIUM)
    assert event == Skipped("LOAN event LOAN_CREATED is not handled", "1452370645077141593",
                            "LOAN", "LOAN_CREATED")  # fmt: skip


def test_W5_a_loan_returned_without_a_barcode_is_rejected() -> None:
    document = json.loads(_from_scf(LOAN_RETURNED_BODY))
    del document["item_loan"]["item_barcode"]
    assert isinstance(classify_webhook(_encode(document), CONSORTIUM), Rejected)
    document["item_loan"] = None
    assert isinstance(classify_webhook(_encode(document), CONSORTIUM), Rejected)


def test_W5_a_request_canceled_in_the_scf_on_a_title_carries_its_comment() -> None:
    comment = "x {Source Request 01AAA_AB-111-jd-01}"
    event = classify_webhook(_from_scf(REQUEST_CANCELED_BODY, comment=comment), CONSORTIUM)
    assert event == RequestCanceled("83013520000121", None, None, comment, None)


def test_W5_the_real_title_level_request_canceled_sample_has_no_barcode_or_comment() -> None:
    event = classify_webhook(_from_scf(REQUEST_CANCELED_BODY), CONSORTIUM)
    assert event == RequestCanceled("83013520000121", None, None, None, None)


def test_W5_a_request_canceled_on_a_mirror_names_the_member_barcode() -> None:
    body = _from_scf(REQUEST_CANCELED_BODY, barcode="777X", user_primary_id="01AAA_AB-ABRS")
    event = classify_webhook(body, CONSORTIUM)
    assert event == RequestCanceled("83013520000121", "777", "777X", None, "01AAA_AB-ABRS")


def test_W5_N1_a_request_canceled_on_a_barcode_without_X_is_not_ours() -> None:
    event = classify_webhook(_from_scf(REQUEST_CANCELED_BODY, barcode="777"), CONSORTIUM)
    assert isinstance(event, Skipped)
    assert "777" in event.reason


def test_W5_other_request_events_are_recorded_as_skipped() -> None:
    event = classify_webhook(_from_scf(PLACED_ON_SHELF_BODY), CONSORTIUM)
    assert isinstance(event, Skipped)
    assert event.event == "REQUEST_PLACED_ON_SHELF"


def test_W5_a_request_canceled_without_user_request_is_rejected() -> None:
    document = json.loads(_from_scf(REQUEST_CANCELED_BODY))
    document["user_request"] = None
    assert classify_webhook(_encode(document), CONSORTIUM) == Rejected(
        "REQUEST_CANCELED without user_request"
    )


def test_W5_actions_the_bridge_does_not_handle_are_recorded_as_skipped() -> None:
    for action in ("BIB", "ITEM", "USER", "NOTIFICATION", "loan"):
        event = classify_webhook(_encode({"id": "1", "action": action}), CONSORTIUM)
        assert event == Skipped(f"action {action} is not handled", "1", action, None)


# --- malformed bodies -----------------------------------------------------------------------


def test_W5_a_body_that_is_not_json_is_rejected() -> None:
    assert classify_webhook(b"<xml/>", CONSORTIUM) == Rejected("body is not JSON")
    assert classify_webhook(b"\xff\xfe", CONSORTIUM) == Rejected("body is not JSON")
    assert classify_webhook(b"[" * 100_000, CONSORTIUM) == Rejected("body is not JSON")


def test_W5_json_that_is_not_an_object_is_rejected() -> None:
    assert classify_webhook(b"[1, 2]", CONSORTIUM) == Rejected("body is not a JSON object")


def test_W5_a_body_without_an_action_is_not_a_webhook() -> None:
    assert classify_webhook(b"{}", CONSORTIUM) == Rejected("no action: not an Alma webhook")


def test_W5_fields_of_the_wrong_type_are_rejected_by_name() -> None:
    assert classify_webhook(b'{"action": 5}', CONSORTIUM) == Rejected("action is not a string")
    assert classify_webhook(
        b'{"action": "LOAN", "institution": "01AAA_RS"}', CONSORTIUM
    ) == Rejected("institution is not an object")
    assert classify_webhook(b'{"action": "LOAN", "event": {"value": 1}}', CONSORTIUM) == Rejected(
        "event.value is not a string"
    )
    body = _from_scf(LOAN_RETURNED_BODY, item_barcode="1X", loan_id=18263808770001221)
    assert classify_webhook(body, CONSORTIUM) == Rejected("item_loan.loan_id is not a string")


_json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
_keys = st.sampled_from(
    ["id", "action", "institution", "event", "value", "job_instance", "job_info", "status",
     "item_loan", "item_barcode", "user_request", "barcode", "comment", "request_id", "loan_id"]
)  # fmt: skip
_values = st.sampled_from(
    ["JOB_END", "LOAN", "REQUEST", "LOAN_RETURNED", "REQUEST_CANCELED", SCF, AB, CD,
     "S987654321", "S123456789", "COMPLETED_FAILED", "12345X", "X"]
)  # fmt: skip
_envelope = st.recursive(
    _json_leaf | _values,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=25,
)


@given(st.binary())
def test_W5_classify_never_raises_for_any_bytes(body: bytes) -> None:
    classify_webhook(body, CONSORTIUM)


@settings(max_examples=400)
@given(st.one_of(_json, _envelope))
def test_W5_classify_never_raises_for_any_json_shaped_like_a_webhook(document: object) -> None:
    body = json.dumps(document).encode()
    event = classify_webhook(body, CONSORTIUM)
    assert isinstance(
        event,
        ItemsSyncDue
        | RequestsSyncDue
        | JobFailed
        | LoanReturned
        | RequestCanceled
        | Skipped
        | Rejected,
    )
