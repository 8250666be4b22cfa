"""Batch workflow runs and the records each touched (rules B1, B5).

Written from adapters/ledger/tables.py; a test checks that a migrated database matches it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in tables.py: a revision must not change when the code does.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_CODE = 64
_STATUS = 32


def _moment(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create `job_runs` and `run_records`; a ledger in service keeps its rows."""
    op.create_table(
        "job_runs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("workflow", sa.String(_CODE), nullable=False),
        sa.Column("trigger", sa.String(_STATUS), nullable=False),
        _moment("started", nullable=False),
        _moment("ended", nullable=True),
        sa.Column("status", sa.String(_STATUS), nullable=False),
        sa.Column("records_ok", sa.Integer(), nullable=False),
        sa.Column("records_skipped", sa.Integer(), nullable=False),
        sa.Column("records_failed", sa.Integer(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("out_dir", sa.Text(), nullable=True),
        sa.Column(
            "resumed_from",
            sa.BigInteger(),
            sa.ForeignKey("job_runs.id", name="fk_job_runs_resumed_from"),
            nullable=True,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_job_runs_workflow_started", "job_runs", ["workflow", "started"])
    op.create_index("ix_job_runs_started", "job_runs", ["started"])

    op.create_table(
        "run_records",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id",
            sa.BigInteger(),
            sa.ForeignKey("job_runs.id", name="fk_run_records_run_id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(_CODE), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(_STATUS), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        _moment("recorded_at", nullable=False),
        sa.UniqueConstraint("run_id", "kind", "key", name="uq_run_records_run_id_kind_key"),
    )
    op.create_index("ix_run_records_run_id_outcome", "run_records", ["run_id", "outcome"])
    op.create_index("ix_run_records_outcome_recorded_at", "run_records", ["outcome", "recorded_at"])


def downgrade() -> None:
    """Drop `run_records` and `job_runs` (their indexes go with them)."""
    op.drop_table("run_records")
    op.drop_table("job_runs")
