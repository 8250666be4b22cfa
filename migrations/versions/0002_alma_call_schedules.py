"""The shared schedule of Alma call starts per institution (rule A4, ADR 0004).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create `alma_call_schedules`."""
    op.create_table(
        "alma_call_schedules",
        sa.Column("institution", sa.String(64), primary_key=True),
        sa.Column("starts", sa.JSON(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    """Drop `alma_call_schedules`."""
    op.drop_table("alma_call_schedules")
