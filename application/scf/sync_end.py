"""The event that closes an items or a requests sync (rule I13): one shape for both.

`items.sync` and `requests.sync` tell staff (status page, `almabridge ledger events`) how a
member's sync ended: its counts and files, or why it stopped (the daily quota, a file server
gone), in which case the unfinished files resume next time.
"""

from __future__ import annotations

from collections.abc import Mapping

from application.ports.ledger import Ledger
from application.shared.alma import AlmaStop
from application.shared.ledger_records import JsonValue, Outcome


async def record_sync_end(
    ledger: Ledger,
    action: str,
    institution: str,
    *,
    done: str,
    stopped: AlmaStop | str | None,
    details: Mapping[str, JsonValue],
    error_code: str | None = None,
) -> None:
    """Append the sync's end event: `done` describes a finished run ("3 files, 120 items")."""
    async with ledger.unit_of_work() as uow:
        await uow.events.append(
            action,
            Outcome.FAILED if stopped else Outcome.OK,
            institution=institution,
            message=f"stopped, files resume next time: {stopped}" if stopped else done,
            details=dict(details),
            error_code=error_code if stopped else None,
        )
        await uow.commit()
