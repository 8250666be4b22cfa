"""Mirror rows written before their SCF item was created get the state `creating` (issue 14).

Until now such a row was `lending` with an empty `scf_item_pid`; the state now says it (ADR 0006).
Only data changes: `state` is a plain string column.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """`lending` rows without an item pid become `creating`."""
    op.execute(
        "UPDATE mirrored_items SET state = 'creating' WHERE state = 'lending' AND scf_item_pid = ''"
    )


def downgrade() -> None:
    """`creating` rows go back to `lending` with their empty pid."""
    op.execute("UPDATE mirrored_items SET state = 'lending' WHERE state = 'creating'")
