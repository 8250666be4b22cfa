"""The append-only event log in SQL (rule I13)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ledger.daily import sorted_via_counts
from adapters.ledger.sql import rows as sql_rows
from adapters.ledger.sql.support import require_aware
from adapters.ledger.tables import events
from application.ports.clock import Clock
from application.shared.ledger_records import JsonObject, LedgerEvent, Outcome, ViaCount


class SqlEventRepository:
    """The append-only event log in SQL (rule I13)."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def append(
        self,
        action: str,
        outcome: Outcome,
        *,
        institution: str | None = None,
        barcode: str | None = None,
        request_id: str | None = None,
        message: str | None = None,
        file_id: int | None = None,
        inbox_id: int | None = None,
        details: JsonObject | None = None,
        error_code: str | None = None,
    ) -> LedgerEvent:
        """Append one event stamped with the clock's time."""
        statement = (
            events.insert()
            .values(
                occurred_at=self._clock.now(),
                institution=institution,
                barcode=barcode,
                request_id=request_id,
                action=action,
                outcome=Outcome(outcome).value,
                message=message,
                file_id=file_id,
                inbox_id=inbox_id,
                details=dict(details or {}),
                error_code=error_code,
            )
            .returning(*events.c)
        )
        return sql_rows.ledger_event((await self._conn.execute(statement)).one())

    async def purge_before(self, cutoff: datetime, *, limit: int) -> list[LedgerEvent]:
        """Remove up to `limit` of the oldest events before `cutoff`; the removed ones."""
        if limit <= 0:
            return []
        query = (
            select(*events.c)
            .where(events.c.occurred_at < cutoff)
            .order_by(events.c.id)
            .limit(limit)
        )
        old = [sql_rows.ledger_event(row) for row in await self._conn.execute(query)]
        if old:
            await self._conn.execute(delete(events).where(events.c.id.in_([e.id for e in old])))
        return old

    async def count_before(self, cutoff: datetime) -> int:
        """How many events occurred before `cutoff`."""
        query = select(func.count()).select_from(events).where(events.c.occurred_at < cutoff)
        return int((await self._conn.execute(query)).scalar_one())

    async def count_by_via(
        self,
        families: Mapping[str, Collection[str]],
        *,
        since: datetime,
        outcome: Outcome = Outcome.OK,
    ) -> list[ViaCount]:
        """Events of these families since a time, counted per institution, family and via."""
        require_aware(since, "since")
        every_action = sorted({action for actions in families.values() for action in actions})
        if not every_action:
            return []
        # Grouped over a subquery: PostgreSQL would see the CASE's and the JSON path's bound
        # parameters in SELECT and GROUP BY as different expressions.
        family = case(
            *(
                (events.c.action.in_(list(actions)), literal(name))
                for name, actions in families.items()
                if actions
            )
        )
        wanted = (
            select(
                events.c.institution.label("institution"),
                family.label("family"),
                events.c.details["via"].as_string().label("via"),
            )
            .where(
                events.c.action.in_(every_action),
                events.c.occurred_at >= since,
                events.c.outcome == Outcome(outcome).value,
            )
            .subquery()
        )
        query = select(wanted.c.institution, wanted.c.family, wanted.c.via, func.count()).group_by(
            wanted.c.institution, wanted.c.family, wanted.c.via
        )
        rows = (await self._conn.execute(query)).all()
        return sorted_via_counts(
            ViaCount(institution, str(name), None if via is None else str(via), int(count))
            for institution, name, via, count in rows
        )
