"""The ledger: inbox, transfer files, mirrored items, forwarded requests, events.

Written from adapters/ledger/tables.py; a test checks that a migrated database matches it.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in tables.py: a revision must not change when the code does.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CODE = 64
_NAME = 255
_STATUS = 32


def _moment(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the five ledger tables and their indexes."""
    op.create_table(
        "inbox_messages",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", sa.String(_NAME), nullable=False),
        _moment("received_at", nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(_STATUS), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _moment("available_at", nullable=False),
        sa.Column("lock_owner", sa.String(_NAME), nullable=True),
        _moment("lease_until", nullable=True),
        sa.UniqueConstraint("dedupe_key", name="uq_inbox_messages_dedupe_key"),
    )
    op.create_index(
        "ix_inbox_messages_status_available_at", "inbox_messages", ["status", "available_at"]
    )

    op.create_table(
        "transfer_files",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("institution", sa.String(_CODE), nullable=False),
        sa.Column("kind", sa.String(_STATUS), nullable=False),
        sa.Column("remote_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(_STATUS), nullable=False),
        sa.Column("records_total", sa.Integer(), nullable=False),
        sa.Column("records_failed", sa.Integer(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        _moment("claimed_at", nullable=False),
        _moment("finished_at", nullable=True),
    )
    op.create_index(
        "ix_transfer_files_institution_kind_status",
        "transfer_files",
        ["institution", "kind", "status"],
    )

    op.create_table(
        "mirrored_items",
        sa.Column("institution", sa.String(_CODE), primary_key=True),
        sa.Column("barcode", sa.String(_NAME), primary_key=True),
        sa.Column("scf_mms_id", sa.String(_CODE), nullable=False),
        sa.Column("scf_holding_id", sa.String(_CODE), nullable=False),
        sa.Column("scf_item_pid", sa.String(_CODE), nullable=False),
        sa.Column("member_mms_id", sa.String(_CODE), nullable=True),
        sa.Column("nz_mms_id", sa.String(_CODE), nullable=True),
        sa.Column("member_item_pid", sa.String(_CODE), nullable=True),
        sa.Column("fingerprint", sa.String(_NAME), nullable=True),
        sa.Column("state", sa.String(_STATUS), nullable=False),
        _moment("loaned_at", nullable=True),
        _moment("loan_returned_at", nullable=True),
        _moment("first_synced_at", nullable=False),
        _moment("last_synced_at", nullable=False),
    )

    op.create_table(
        "forwarded_requests",
        sa.Column("source_institution", sa.String(_CODE), primary_key=True),
        sa.Column("source_request_id", sa.String(_CODE), primary_key=True),
        sa.Column("route", sa.String(_CODE), nullable=False),
        sa.Column("barcode", sa.String(_NAME), nullable=True),
        sa.Column("mms_id", sa.String(_CODE), nullable=True),
        sa.Column("scf_request_id", sa.String(_CODE), nullable=True),
        sa.Column("scf_mms_id", sa.String(_CODE), nullable=True),
        sa.Column("user_id", sa.String(_NAME), nullable=True),
        sa.Column("status", sa.String(_STATUS), nullable=False),
        _moment("first_seen_at", nullable=False),
        _moment("updated_at", nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("request_data", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ix_forwarded_requests_source_institution_status",
        "forwarded_requests",
        ["source_institution", "status"],
    )
    op.create_index(
        "ix_forwarded_requests_scf_request_id", "forwarded_requests", ["scf_request_id"]
    )

    op.create_table(
        "events",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        _moment("occurred_at", nullable=False),
        sa.Column("institution", sa.String(_CODE), nullable=True),
        sa.Column("barcode", sa.String(_NAME), nullable=True),
        sa.Column("request_id", sa.String(_CODE), nullable=True),
        sa.Column("action", sa.String(_CODE), nullable=False),
        sa.Column("outcome", sa.String(_STATUS), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("file_id", sa.BigInteger(), nullable=True),
        sa.Column("inbox_id", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("error_code", sa.String(_CODE), nullable=True),
    )
    op.create_index("ix_events_institution_occurred_at", "events", ["institution", "occurred_at"])
    op.create_index("ix_events_outcome", "events", ["outcome"])
    op.create_index("ix_events_institution_barcode", "events", ["institution", "barcode"])
    op.create_index("ix_events_institution_request_id", "events", ["institution", "request_id"])


def downgrade() -> None:
    """Drop the ledger tables (their indexes go with them)."""
    for table in (
        "events",
        "forwarded_requests",
        "mirrored_items",
        "transfer_files",
        "inbox_messages",
    ):
        op.drop_table(table)
