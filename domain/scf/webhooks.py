"""What an Alma webhook asks the bridge to do (rules W1, W3, W4, W5; W6, W7 in `member_webhooks`).

``classify_webhook`` turns the verified raw body into one typed event: an items or requests sync
that is due, a failed job to record, a loan returned or a request cancelled in the SCF, a member's
new request or changed item to act on now (`RequestCreated`, `ItemChanged`), something
recorded as skipped, or a body rejected as malformed. It never raises, whatever the bytes, because
a crash here would lose a message that Alma already considers delivered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.scf.institutions import Consortium, Institution
from domain.scf.member_webhooks import (
    ItemChanged,
    MemberBodyMalformed,
    RequestCreated,
    member_event,
)
from domain.scf.naming import member_barcode_of
from domain.scf.requests.comments import bridge_parts_of

JOB_END = "JOB_END"
LOAN = "LOAN"
REQUEST = "REQUEST"
LOAN_RETURNED = "LOAN_RETURNED"
REQUEST_CANCELED = "REQUEST_CANCELED"
FAILED_JOB_STATUSES = frozenset({"COMPLETED_FAILED"})
"""Job statuses recorded and skipped instead of syncing (rule W4)."""

# Alma webhook ids are digit strings; anything outside this alphabet is not trusted as a key.
_WEBHOOK_ID = re.compile(r"[0-9A-Za-z._-]{1,128}")


class SyncKind(StrEnum):
    """Which batch a member's job feeds."""

    ITEMS = "items"
    REQUESTS = "requests"


@dataclass(frozen=True)
class ItemsSyncDue:
    """A member's publishing job finished: mirror its items into the SCF (rule W4)."""

    institution: str
    job_id: str
    job_instance_id: str | None
    status: str | None


@dataclass(frozen=True)
class RequestsSyncDue:
    """A member's remote-storage requests job finished: forward its requests (rule W4)."""

    institution: str
    job_id: str
    job_instance_id: str | None
    status: str | None


@dataclass(frozen=True)
class JobFailed:
    """A member's job ended ``COMPLETED_FAILED``: recorded, not synced (rule W4)."""

    institution: str
    kind: SyncKind
    job_id: str
    job_instance_id: str | None
    status: str


@dataclass(frozen=True)
class LoanReturned:
    """The SCF returned a loan on one of our mirrors: scan the member item in (rules W5, C1)."""

    barcode: str
    scf_barcode: str
    loan_id: str | None
    user_id: str | None


@dataclass(frozen=True)
class RequestCanceled:
    """The SCF cancelled a request: propagate it to the member request it stands for (W5, C2).

    ``barcode`` is the member barcode when the SCF request was on one of our mirrors, and None for
    a title-level request.
    """

    request_id: str | None
    barcode: str | None
    scf_barcode: str | None
    comment: str | None
    user_primary_id: str | None


@dataclass(frozen=True)
class Skipped:
    """A well-formed webhook that asks nothing of the bridge; recorded as skipped (W4, W5)."""

    reason: str
    webhook_id: str | None
    action: str | None
    event: str | None


@dataclass(frozen=True)
class Rejected:
    """A body that is not a usable Alma webhook (not JSON, wrong types, missing payload)."""

    reason: str


WebhookEvent = (
    ItemsSyncDue
    | RequestsSyncDue
    | JobFailed
    | LoanReturned
    | RequestCanceled
    | RequestCreated
    | ItemChanged
    | Skipped
    | Rejected
)


def challenge_answer(challenge: str) -> dict[str, str]:
    """The JSON body that answers Alma's ``GET /webhook?challenge=…`` (rule W1)."""
    return {"challenge": challenge}


def dedupe_key(raw_body: bytes) -> str:
    """The inbox key of a webhook: its ``id``, else ``sha256:`` and the body's digest (rule W3).

    Alma redelivers the same message with the same id after a timeout; bodies without a usable id
    dedupe on their exact bytes. The ``sha256:`` prefix keeps the two kinds of key apart.
    """
    document = _decode(raw_body)
    if isinstance(document, dict):
        webhook_id = document.get("id")
        if isinstance(webhook_id, str) and _WEBHOOK_ID.fullmatch(webhook_id):
            return webhook_id
    return "sha256:" + hashlib.sha256(raw_body).hexdigest()


_PATRON_KEYS = frozenset(
    {
        "contact_info",
        "address",
        "email",
        "email_address",
        "phone",
        "phone_number",
        "first_name",
        "middle_name",
        "last_name",
        "full_name",
        "pref_first_name",
        "pref_middle_name",
        "pref_last_name",
        "preferred_first_name",
        "preferred_middle_name",
        "preferred_last_name",
        "user_full_name",
        "patron_name",
        "birth_date",
    }
)
"""Keys of Alma's JSON that hold a patron's name, e-mail, postal address or phone (rule P2)."""


def inbox_body(raw_body: bytes) -> bytes:
    """The body the inbox keeps of a verified webhook: without patron data (rule P2).

    The comment of a ``user_request`` keeps only what the bridge reads back from it (C2:
    `bridge_parts_of`), and the keys of `_PATRON_KEYS` are dropped wherever they are, so that
    `classify_webhook` reads the same event from either body. A body with nothing to drop, or
    that is not a JSON object, is kept byte for byte. The dedupe key and the signature are the
    raw body's, taken before (W2, W3).
    """
    document = _decode(raw_body)
    if document is _TOO_DEEP:
        # Rejected by `classify_webhook` too; kept as received it could carry a patron's data
        # below where the scrubber would look, so only a note of what came is kept.
        return TOO_DEEP_BODY
    if not isinstance(document, dict):
        return raw_body
    scrubbed, changed = _without_patron(document)
    if not changed:
        return raw_body
    return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":")).encode()


def _without_patron(value: object, key: str | None = None) -> tuple[object, bool]:
    if isinstance(value, dict):
        changed = False
        kept: dict[str, object] = {}
        for name, inner in value.items():
            if name in _PATRON_KEYS:
                changed = True
                continue
            if key == "user_request" and name == "comment" and isinstance(inner, str):
                reduced = bridge_parts_of(inner)
                changed = changed or reduced != inner
                kept[name] = reduced
                continue
            kept[name], inner_changed = _without_patron(inner, name)
            changed = changed or inner_changed
        return kept, changed
    if isinstance(value, list):
        items = [_without_patron(inner, key) for inner in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    return value, False


def classify_webhook(raw_body: bytes, consortium: Consortium) -> WebhookEvent:
    """The one thing this webhook asks of the bridge; never raises."""
    document = _decode(raw_body)
    if document is _UNDECODABLE:
        return Rejected("body is not JSON")
    if document is _TOO_DEEP:
        return Rejected(f"body nested deeper than {MAX_NESTING} levels: not an Alma webhook")
    if not isinstance(document, dict):
        return Rejected("body is not a JSON object")
    try:
        return _classify(document, consortium)
    except _Malformed as malformed:
        return Rejected(str(malformed))


_UNDECODABLE = object()
_TOO_DEEP = object()
MAX_NESTING = 64
"""Alma's webhook bodies nest a few levels; a body deeper than this is no webhook (W3, P2)."""
TOO_DEEP_BODY = b'{"almabridge": "body not kept: nested deeper than 64 levels"}'


def _decode(raw_body: bytes) -> object:
    try:
        document = json.loads(raw_body)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON, bad UTF-8 and over-long integers; RecursionError covers
        # absurdly deep nesting.
        return _UNDECODABLE
    return _TOO_DEEP if _deeper_than(document, MAX_NESTING) else document


def _deeper_than(document: object, limit: int) -> bool:
    """Whether containers nest more than ``limit`` deep; a loop, so it never recurses."""
    pending: list[tuple[object, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth >= limit:
                return True
            inner = value.values() if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in inner)
    return False


class _Malformed(Exception):
    """A field the bridge reads has the wrong type; becomes ``Rejected``."""


def _text(document: Mapping[str, Any], key: str, where: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Malformed(f"{where}{key} is not a string")
    return value or None


def _object(document: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any] | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Malformed(f"{where}{key} is not an object")
    return value


def _code(document: Mapping[str, Any], key: str, where: str) -> str | None:
    """The ``value`` of an Alma code-table object such as ``{"value": "LOAN", "desc": …}``."""
    value = _object(document, key, where)
    return None if value is None else _text(value, "value", f"{where}{key}.")


def _classify(document: Mapping[str, Any], consortium: Consortium) -> WebhookEvent:
    webhook_id = _text(document, "id", "")
    action = _text(document, "action", "")
    institution = _code(document, "institution", "")
    event = _code(document, "event", "")
    if action is None:
        return Rejected("no action: not an Alma webhook")
    if action == JOB_END:
        return _job_end(document, consortium, webhook_id, institution)
    try:
        member = member_event(
            document,
            consortium,
            action=action,
            event=event,
            institution=institution,
            webhook_id=webhook_id,
        )
    except MemberBodyMalformed as malformed:
        raise _Malformed(str(malformed)) from None
    if member is not None:  # W6, W7
        return member
    if action not in (LOAN, REQUEST):
        return Skipped(f"action {action} is not handled", webhook_id, action, event)
    wanted = LOAN_RETURNED if action == LOAN else REQUEST_CANCELED
    if event != wanted:
        return Skipped(f"{action} event {event} is not handled", webhook_id, action, event)
    if institution is None or not consortium.is_scf(institution):
        return Skipped(
            f"{event} from {institution}, not from the SCF {consortium.remote_storage.institution}",
            webhook_id,
            action,
            event,
        )
    if action == LOAN:
        return _loan_returned(document, webhook_id, event)
    return _request_canceled(document, webhook_id, event)


def _job_end(
    document: Mapping[str, Any],
    consortium: Consortium,
    webhook_id: str | None,
    institution: str | None,
) -> WebhookEvent:
    job = _object(document, "job_instance", "")
    job_info = None if job is None else _object(job, "job_info", "job_instance.")
    job_id = None if job_info is None else _text(job_info, "id", "job_instance.job_info.")
    if job is None or job_id is None:
        return Rejected("JOB_END without job_instance.job_info.id")
    job_instance_id = _text(job, "id", "job_instance.")
    status = _code(job, "status", "job_instance.")
    owners = _job_owners(job_id, institution, consortium)
    if not owners:
        return Skipped(
            f"job {job_id} is not the publishing or requests job of any member institution",
            webhook_id,
            JOB_END,
            None,
        )
    if len(owners) > 1:
        candidates = ", ".join(f"{owner.code} ({kind} job)" for owner, kind in owners)
        return Skipped(
            f"job {job_id} is ambiguous and institution {institution} does not settle it: "
            f"{candidates}",
            webhook_id,
            JOB_END,
            None,
        )
    owner, kind = owners[0]
    if status in FAILED_JOB_STATUSES:
        return JobFailed(owner.code, kind, job_id, job_instance_id, status)
    if kind is SyncKind.ITEMS:
        return ItemsSyncDue(owner.code, job_id, job_instance_id, status)
    return RequestsSyncDue(owner.code, job_id, job_instance_id, status)


def _job_owners(
    job_id: str, institution: str | None, consortium: Consortium
) -> list[tuple[Institution, SyncKind]]:
    """Members whose publishing or requests job is ``job_id``, narrowed to the sender if it is one.

    The Java app took the first publishing match across all institutions, so a job id that is one
    member's publishing job and another's requests job never ran the second (rule W4, fix).
    """
    owners = [
        (member, kind)
        for member in consortium.members
        for kind, owned_id in (
            (SyncKind.ITEMS, member.publishing_job_id),
            (SyncKind.REQUESTS, member.requests_job_id),
        )
        if owned_id == job_id
    ]
    if institution is not None:
        sender = [
            (member, kind)
            for member, kind in owners
            if member.code.casefold() == institution.casefold()
        ]
        if sender:
            return sender
    return owners


def _loan_returned(document: Mapping[str, Any], webhook_id: str | None, event: str) -> WebhookEvent:
    loan = _object(document, "item_loan", "")
    barcode = None if loan is None else _text(loan, "item_barcode", "item_loan.")
    if loan is None or barcode is None:
        return Rejected("LOAN_RETURNED without item_loan.item_barcode")
    member_barcode = member_barcode_of(barcode)
    if member_barcode is None:
        return Skipped(f"barcode {barcode} is not an SCF mirror (N1)", webhook_id, LOAN, event)
    return LoanReturned(
        barcode=member_barcode,
        scf_barcode=barcode,
        loan_id=_text(loan, "loan_id", "item_loan."),
        user_id=_text(loan, "user_id", "item_loan."),
    )


def _request_canceled(
    document: Mapping[str, Any], webhook_id: str | None, event: str
) -> WebhookEvent:
    request = _object(document, "user_request", "")
    if request is None:
        return Rejected("REQUEST_CANCELED without user_request")
    scf_barcode = _text(request, "barcode", "user_request.")
    member_barcode = None if scf_barcode is None else member_barcode_of(scf_barcode)
    if scf_barcode is not None and member_barcode is None:
        return Skipped(
            f"barcode {scf_barcode} is not an SCF mirror (N1)", webhook_id, REQUEST, event
        )
    return RequestCanceled(
        request_id=_text(request, "request_id", "user_request."),
        barcode=member_barcode,
        scf_barcode=scf_barcode,
        comment=_text(request, "comment", "user_request."),
        user_primary_id=_text(request, "user_primary_id", "user_request."),
    )
