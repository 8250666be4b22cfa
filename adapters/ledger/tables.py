"""The ledger schema as SQLAlchemy Core tables: the source the Alembic revision was written from.

A test migrates a fresh database and compares it with this metadata, so the two cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend.

    SQLite stores DateTime as text without an offset, so values are normalised to UTC before
    storing; that also keeps SQLite's text comparisons in time order.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"the ledger stores aware datetimes only, got naive {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[Any]:
        return datetime


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")

# Codes and Alma ids are short; names and barcodes get room to spare.
CODE = 64
NAME = 255
STATUS = 32

metadata = MetaData()

inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(NAME), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("body", LargeBinary(), nullable=False),
    Column("status", String(STATUS), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("last_error", Text(), nullable=True),
    Column("available_at", UtcDateTime(), nullable=False),
    Column("lock_owner", String(NAME), nullable=True),
    Column("lease_until", UtcDateTime(), nullable=True),
    UniqueConstraint("dedupe_key", name="uq_inbox_messages_dedupe_key"),
    Index("ix_inbox_messages_status_available_at", "status", "available_at"),
)

transfer_files = Table(
    "transfer_files",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("institution", String(CODE), nullable=False),
    Column("kind", String(STATUS), nullable=False),
    Column("remote_name", Text(), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger(), nullable=False),
    Column("status", String(STATUS), nullable=False),
    Column("records_total", Integer(), nullable=False),
    Column("records_failed", Integer(), nullable=False),
    Column("failure_reason", Text(), nullable=True),
    Column("claimed_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Index("ix_transfer_files_institution_kind_status", "institution", "kind", "status"),
)

mirrored_items = Table(
    "mirrored_items",
    metadata,
    Column("institution", String(CODE), primary_key=True),
    Column("barcode", String(NAME), primary_key=True),
    Column("scf_mms_id", String(CODE), nullable=False),
    Column("scf_holding_id", String(CODE), nullable=False),
    Column("scf_item_pid", String(CODE), nullable=False),
    Column("member_mms_id", String(CODE), nullable=True),
    Column("nz_mms_id", String(CODE), nullable=True),
    Column("member_item_pid", String(CODE), nullable=True),
    Column("fingerprint", String(NAME), nullable=True),
    Column("state", String(STATUS), nullable=False),
    Column("loaned_at", UtcDateTime(), nullable=True),
    Column("loan_returned_at", UtcDateTime(), nullable=True),
    Column("first_synced_at", UtcDateTime(), nullable=False),
    Column("last_synced_at", UtcDateTime(), nullable=False),
)

forwarded_requests = Table(
    "forwarded_requests",
    metadata,
    Column("source_institution", String(CODE), primary_key=True),
    Column("source_request_id", String(CODE), primary_key=True),
    Column("route", String(CODE), nullable=False),
    Column("barcode", String(NAME), nullable=True),
    Column("mms_id", String(CODE), nullable=True),
    Column("scf_request_id", String(CODE), nullable=True),
    Column("scf_mms_id", String(CODE), nullable=True),
    Column("user_id", String(NAME), nullable=True),
    Column("status", String(STATUS), nullable=False),
    Column("first_seen_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("last_error", Text(), nullable=True),
    Column("request_data", JSON(), nullable=False),
    Index("ix_forwarded_requests_source_institution_status", "source_institution", "status"),
    Index("ix_forwarded_requests_scf_request_id", "scf_request_id"),
)

# No foreign keys to files or inbox rows: the audit log must outlive a purge of old inbox bodies.
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("institution", String(CODE), nullable=True),
    Column("barcode", String(NAME), nullable=True),
    Column("request_id", String(CODE), nullable=True),
    Column("action", String(CODE), nullable=False),
    Column("outcome", String(STATUS), nullable=False),
    Column("message", Text(), nullable=True),
    Column("file_id", BigInteger(), nullable=True),
    Column("inbox_id", BigInteger(), nullable=True),
    Column("details", JSON(), nullable=False),
    Column("error_code", String(CODE), nullable=True),
    Index("ix_events_institution_occurred_at", "institution", "occurred_at"),
    Index("ix_events_outcome", "outcome"),
    Index("ix_events_institution_barcode", "institution", "barcode"),
    Index("ix_events_institution_request_id", "institution", "request_id"),
)

# Alma's per-second threshold is per institution, whichever process calls (A4, ADR 0004): every
# process sharing this ledger books its call starts here. `starts` holds the last `rate` booked
# starts as a JSON list of epoch seconds on the database's clock; not an audit record.
alma_call_schedules = Table(
    "alma_call_schedules",
    metadata,
    Column("institution", String(CODE), primary_key=True),
    Column("starts", JSON(), nullable=False),
    Column("paused_until", Float(), nullable=False),
)

# One row per batch workflow run (rule B1). A run whose process was killed keeps `running` and
# no `ended`: resuming it starts a new run pointing back here (B5). `options` never holds a
# secret; `inputs` and `outputs` are JSON lists of {"name", "sha256"}.
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workflow", String(CODE), nullable=False),
    Column("trigger", String(STATUS), nullable=False),
    Column("started", UtcDateTime(), nullable=False),
    Column("ended", UtcDateTime(), nullable=True),
    Column("status", String(STATUS), nullable=False),
    Column("records_ok", Integer(), nullable=False),
    Column("records_skipped", Integer(), nullable=False),
    Column("records_failed", Integer(), nullable=False),
    Column("options", JSON(), nullable=False),
    Column("inputs", JSON(), nullable=False),
    Column("outputs", JSON(), nullable=False),
    Column("dry_run", Boolean(), nullable=False),
    Column("out_dir", Text(), nullable=True),
    Column(
        "resumed_from",
        BigInteger(),
        ForeignKey("job_runs.id", name="fk_job_runs_resumed_from"),
        nullable=True,
    ),
    Column("reason", Text(), nullable=True),
    Index("ix_job_runs_workflow_started", "workflow", "started"),
    Index("ix_job_runs_started", "started"),
)

# Every record a run touched, once per (run, kind, key): recording a key again overwrites its
# row, so a resumed or retried record never counts twice (B1, B5). `key` is the record's
# identity (MMS id, holding id, course code+section, network id, resource URI, file path).
run_records = Table(
    "run_records",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        BigInteger(),
        ForeignKey("job_runs.id", name="fk_run_records_run_id"),
        nullable=False,
    ),
    Column("kind", String(CODE), nullable=False),
    Column("key", Text(), nullable=False),
    Column("outcome", String(STATUS), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("detail", JSON(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("run_id", "kind", "key", name="uq_run_records_run_id_kind_key"),
    Index("ix_run_records_run_id_outcome", "run_id", "outcome"),
    Index("ix_run_records_outcome_recorded_at", "outcome", "recorded_at"),
)
