"""Turns SQL result rows into the ledger's frozen records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from application.shared.ledger_records import (
    ForwardedRequest,
    InboxMessage,
    InboxStatus,
    LedgerEvent,
    MirroredItem,
    MirrorState,
    Outcome,
    RequestStatus,
    TransferFile,
    TransferKind,
    TransferStatus,
)


def inbox_message(row: Row[Any]) -> InboxMessage:
    """An inbox_messages row as a record."""
    return InboxMessage(
        id=row.id,
        dedupe_key=row.dedupe_key,
        received_at=row.received_at,
        body=bytes(row.body),
        status=InboxStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        available_at=row.available_at,
        lock_owner=row.lock_owner,
        lease_until=row.lease_until,
    )


def transfer_file(row: Row[Any]) -> TransferFile:
    """A transfer_files row as a record."""
    return TransferFile(
        id=row.id,
        institution=row.institution,
        kind=TransferKind(row.kind),
        remote_name=row.remote_name,
        sha256=row.sha256,
        size=row.size,
        status=TransferStatus(row.status),
        records_total=row.records_total,
        records_failed=row.records_failed,
        failure_reason=row.failure_reason,
        claimed_at=row.claimed_at,
        finished_at=row.finished_at,
    )


def mirrored_item(row: Row[Any]) -> MirroredItem:
    """A mirrored_items row as a record."""
    return MirroredItem(
        institution=row.institution,
        barcode=row.barcode,
        scf_mms_id=row.scf_mms_id,
        scf_holding_id=row.scf_holding_id,
        scf_item_pid=row.scf_item_pid,
        member_mms_id=row.member_mms_id,
        nz_mms_id=row.nz_mms_id,
        member_item_pid=row.member_item_pid,
        fingerprint=row.fingerprint,
        state=MirrorState(row.state),
        loaned_at=row.loaned_at,
        loan_returned_at=row.loan_returned_at,
        first_synced_at=row.first_synced_at,
        last_synced_at=row.last_synced_at,
    )


def forwarded_request(row: Row[Any]) -> ForwardedRequest:
    """A forwarded_requests row as a record."""
    return ForwardedRequest(
        source_institution=row.source_institution,
        source_request_id=row.source_request_id,
        route=row.route,
        barcode=row.barcode,
        mms_id=row.mms_id,
        scf_request_id=row.scf_request_id,
        scf_mms_id=row.scf_mms_id,
        user_id=row.user_id,
        status=RequestStatus(row.status),
        first_seen_at=row.first_seen_at,
        updated_at=row.updated_at,
        attempts=row.attempts,
        last_error=row.last_error,
        request_data=dict(row.request_data),
    )


def ledger_event(row: Row[Any]) -> LedgerEvent:
    """An events row as a record."""
    return LedgerEvent(
        id=row.id,
        occurred_at=row.occurred_at,
        institution=row.institution,
        barcode=row.barcode,
        request_id=row.request_id,
        action=row.action,
        outcome=Outcome(row.outcome),
        message=row.message,
        file_id=row.file_id,
        inbox_id=row.inbox_id,
        details=dict(row.details),
        error_code=row.error_code,
    )
