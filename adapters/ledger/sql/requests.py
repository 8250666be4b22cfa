"""Forwarded requests in SQL, keyed by source institution and request id (rules R6, C2)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ledger.sql import rows as sql_rows
from adapters.ledger.sql.support import upsert_insert
from adapters.ledger.tables import forwarded_requests
from application.ports.clock import Clock
from application.shared.ledger_records import ForwardedRequest, JsonObject, RequestStatus


class SqlForwardedRequestRepository:
    """Forwarded requests in SQL, keyed by source institution and request id (rule R6)."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def get(self, source_institution: str, source_request_id: str) -> ForwardedRequest | None:
        """The row of a source request, if the bridge has seen it (rule R6)."""
        query = select(forwarded_requests).where(
            forwarded_requests.c.source_institution == source_institution,
            forwarded_requests.c.source_request_id == source_request_id,
        )
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else sql_rows.forwarded_request(row)

    async def get_by_scf_request(self, scf_request_id: str) -> ForwardedRequest | None:
        """The source request an SCF request was created for, if any (rule C2)."""
        query = (
            select(forwarded_requests)
            .where(forwarded_requests.c.scf_request_id == scf_request_id)
            .order_by(forwarded_requests.c.updated_at.desc())
            .limit(1)
        )
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else sql_rows.forwarded_request(row)

    async def upsert(
        self,
        source_institution: str,
        source_request_id: str,
        *,
        route: str,
        status: RequestStatus,
        barcode: str | None = None,
        mms_id: str | None = None,
        scf_request_id: str | None = None,
        scf_mms_id: str | None = None,
        user_id: str | None = None,
        last_error: str | None = None,
        request_data: JsonObject | None = None,
    ) -> ForwardedRequest:
        """Record one forwarding attempt: insert, or overwrite and count one more attempt."""
        now = self._clock.now()
        insert = upsert_insert(self._conn, forwarded_requests).values(
            source_institution=source_institution,
            source_request_id=source_request_id,
            route=route,
            barcode=barcode,
            mms_id=mms_id,
            scf_request_id=scf_request_id,
            scf_mms_id=scf_mms_id,
            user_id=user_id,
            status=RequestStatus(status).value,
            first_seen_at=now,
            updated_at=now,
            attempts=1,
            last_error=last_error,
            request_data=dict(request_data or {}),
        )
        kept = ("source_institution", "source_request_id", "first_seen_at", "attempts")
        updates: dict[str, object] = {
            column.name: insert.excluded[column.name]
            for column in forwarded_requests.c
            if column.name not in kept
        }
        updates["attempts"] = forwarded_requests.c.attempts + 1
        statement = insert.on_conflict_do_update(
            index_elements=["source_institution", "source_request_id"], set_=updates
        ).returning(*forwarded_requests.c)
        return sql_rows.forwarded_request((await self._conn.execute(statement)).one())

    async def set_status(
        self,
        source_institution: str,
        source_request_id: str,
        status: RequestStatus,
        *,
        scf_request_id: str | None = None,
        last_error: str | None = None,
    ) -> ForwardedRequest | None:
        """Change status and last error (and scf_request_id when given); None if never seen."""
        values: dict[str, object] = {
            "status": RequestStatus(status).value,
            "last_error": last_error,
            "updated_at": self._clock.now(),
        }
        if scf_request_id is not None:
            values["scf_request_id"] = scf_request_id
        statement = (
            update(forwarded_requests)
            .where(
                forwarded_requests.c.source_institution == source_institution,
                forwarded_requests.c.source_request_id == source_request_id,
            )
            .values(**values)
            .returning(*forwarded_requests.c)
        )
        row = (await self._conn.execute(statement)).one_or_none()
        return None if row is None else sql_rows.forwarded_request(row)

    async def list_waiting(self, source_institution: str) -> list[ForwardedRequest]:
        """Requests of an institution waiting for their item's mirror, oldest first (R7)."""
        query = (
            select(forwarded_requests)
            .where(
                forwarded_requests.c.source_institution == source_institution,
                forwarded_requests.c.status == RequestStatus.WAITING_FOR_MIRROR.value,
            )
            .order_by(forwarded_requests.c.first_seen_at, forwarded_requests.c.source_request_id)
        )
        return [sql_rows.forwarded_request(row) for row in await self._conn.execute(query)]

    async def list_for(
        self, source_institution: str, *, statuses: Collection[RequestStatus] | None = None
    ) -> list[ForwardedRequest]:
        """Every request row of a source institution (in these statuses), oldest first."""
        query = select(forwarded_requests).where(
            forwarded_requests.c.source_institution == source_institution
        )
        if statuses is not None:
            query = query.where(
                forwarded_requests.c.status.in_([RequestStatus(s).value for s in statuses])
            )
        query = query.order_by(
            forwarded_requests.c.first_seen_at, forwarded_requests.c.source_request_id
        )
        return [sql_rows.forwarded_request(row) for row in await self._conn.execute(query)]
