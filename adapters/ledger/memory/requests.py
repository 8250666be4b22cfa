"""Forwarded requests in memory (rules R6, C2)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from adapters.ledger.memory.state import Workspace, json_copy, utc
from application.ports.clock import Clock
from application.shared.ledger_records import ForwardedRequest, JsonObject, RequestStatus


class MemoryForwardedRequestRepository:
    """Forwarded requests in memory."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        self._workspace = workspace
        self._clock = clock

    async def get(self, source_institution: str, source_request_id: str) -> ForwardedRequest | None:
        """The row of a source request, if the bridge has seen it (rule R6)."""
        return self._workspace.state.requests.get((source_institution, source_request_id))

    async def get_by_scf_request(self, scf_request_id: str) -> ForwardedRequest | None:
        """The source request an SCF request was created for, if any (rule C2)."""
        matches = [
            request
            for request in self._workspace.state.requests.values()
            if request.scf_request_id == scf_request_id
        ]
        return max(matches, key=lambda request: request.updated_at, default=None)

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
        now = utc(self._clock.now(), "clock")
        key = (source_institution, source_request_id)
        old = self._workspace.state.requests.get(key)
        self._workspace.state.requests[key] = ForwardedRequest(
            source_institution=source_institution,
            source_request_id=source_request_id,
            route=route,
            barcode=barcode,
            mms_id=mms_id,
            scf_request_id=scf_request_id,
            scf_mms_id=scf_mms_id,
            user_id=user_id,
            status=RequestStatus(status),
            first_seen_at=old.first_seen_at if old else now,
            updated_at=now,
            attempts=old.attempts + 1 if old else 1,
            last_error=last_error,
            request_data=json_copy(request_data),
        )
        return self._workspace.state.requests[key]

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
        key = (source_institution, source_request_id)
        old = self._workspace.state.requests.get(key)
        if old is None:
            return None
        self._workspace.state.requests[key] = replace(
            old,
            status=RequestStatus(status),
            last_error=last_error,
            updated_at=utc(self._clock.now(), "clock"),
            scf_request_id=old.scf_request_id if scf_request_id is None else scf_request_id,
        )
        return self._workspace.state.requests[key]

    async def list_waiting(self, source_institution: str) -> list[ForwardedRequest]:
        """Requests of an institution waiting for their item's mirror, oldest first (R7)."""
        waiting = [
            request
            for request in self._workspace.state.requests.values()
            if request.source_institution == source_institution
            and request.status is RequestStatus.WAITING_FOR_MIRROR
        ]
        return sorted(
            waiting, key=lambda request: (request.first_seen_at, request.source_request_id)
        )

    async def list_for(
        self, source_institution: str, *, statuses: Collection[RequestStatus] | None = None
    ) -> list[ForwardedRequest]:
        """Every request row of a source institution (in these statuses), oldest first."""
        wanted = None if statuses is None else {RequestStatus(s) for s in statuses}
        rows = [
            request
            for request in self._workspace.state.requests.values()
            if request.source_institution == source_institution
            and (wanted is None or request.status in wanted)
        ]
        return sorted(rows, key=lambda request: (request.first_seen_at, request.source_request_id))
