"""Everything the bridge reads about a member request before it writes anything (R3–R5, R7).

A `Plan` is the route (R4), the pickup system user (R3), the member's original request (needed for
title-level and digitization bodies, R5), where the request would go in the SCF and the R7
decision: forward, wait or cancel. Planning only reads Alma and the ledger, so a dry run is a
plan without the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.library_names import LibraryNames
from application.shared.alma import (
    AlmaError,
    AlmaItem,
    AlmaJson,
    ItemNotFound,
    TransientAlmaError,
)
from application.shared.ledger_records import MirrorState
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import in_remote_storage
from domain.scf.items.holdings import holding_matches, resolve_scf_location
from domain.scf.naming import nz_mms_id, other_system_id, scf_barcode
from domain.scf.requests.forwarding import ForwardingDecision, decide_unforwardable
from domain.scf.requests.pickup import PickupResolution, resolve_pickup_library
from domain.scf.requests.routing import RemoteStorageRequest, Route, route_request
from domain.shared.alma_json import text_at


@dataclass
class Unforwardable(Exception):
    """The request cannot be forwarded as it stands (not a transient failure, not a business
    reason to cancel): e.g. the member's original request cannot be read. Parked and reported."""

    reason: str
    error_code: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, self.reason)


@dataclass(frozen=True)
class ScfTarget:
    """Where the SCF request goes: an item (item level) or only a bib (title level)."""

    mms_id: str
    holding_id: str | None = None
    item_pid: str | None = None

    @property
    def item_ids(self) -> tuple[str, str, str] | None:
        if self.holding_id is None or self.item_pid is None:
            return None
        return self.mms_id, self.holding_id, self.item_pid


@dataclass(frozen=True)
class Plan:
    """What forwarding one request means, decided from reads only."""

    institution: str
    request: RemoteStorageRequest
    route: Route
    pickup: PickupResolution
    decision: ForwardingDecision
    target: ScfTarget | None
    original: AlmaJson
    """The member's request as Alma returns it; empty for item holds, which do not need it."""
    member_mms_id: str | None
    member_user_id: str | None
    member_item: AlmaItem | None = None
    title_holding_id: str | None = None
    """The SCF holding that carries a title hold's manual description, if one was found."""


def _transient(error: AlmaError) -> bool:
    return isinstance(error, TransientAlmaError)


class Planner:
    """Builds plans; keeps the library-name cache across runs."""

    def __init__(
        self,
        alma: AlmaDirectory,
        ledger: Ledger,
        clock: Clock,
        consortium: Consortium,
        libraries: LibraryNames,
        *,
        grace_hours: float,
    ) -> None:
        self._alma = alma
        self._ledger = ledger
        self._clock = clock
        self._libraries = libraries
        self._consortium = consortium
        self._grace_hours = grace_hours

    def _scf(self) -> AlmaGateway:
        return self._alma.gateway(self._consortium.remote_storage.institution)

    async def plan(
        self, institution: str, request: RemoteStorageRequest, first_seen: datetime
    ) -> Plan:
        """The plan for `request` of `institution`'s file, first seen at `first_seen`."""
        route = route_request(request)
        maps = await self._libraries.maps_for(request, institution)
        pickup = resolve_pickup_library(request, institution, self._consortium, maps)
        member = self._alma.gateway(institution)
        original = await self._original(member, request, route)
        member_mms_id = request.mms_id or text_at(original, "mms_id")
        member_user_id = text_at(original, "user_primary_id") or request.patron_user_id
        on_loan = transit = False
        member_in_remote_storage: bool | None = None  # unknown at title level: wait out grace
        member_item: AlmaItem | None = None
        holding_id: str | None = None
        if route.is_title_level:
            target = await self._scf_bib(member, institution, member_mms_id)
            if target is not None and route is Route.TITLE_HOLD:
                holding_id = await self._title_holding(target, original)
        else:
            barcode = request.barcode or ""
            scf_item = await _item_or_none(self._scf(), scf_barcode(barcode))
            target = _item_target(scf_item)
            on_loan = scf_item is not None and scf_item.process_type == "LOAN"
            if target is not None and on_loan:
                transit = await self._in_transit(institution, barcode, target)
            if target is None or (on_loan and not transit):
                # Only now does the member copy matter: to wait for it, or to cancel through it.
                member_item = await _item_or_none(member, barcode)
                member_in_remote_storage = member_item is not None and in_remote_storage(
                    self._consortium, institution, member_item.library, member_item.location
                )
        decision = decide_unforwardable(
            scf_copy_exists=target is not None,
            scf_copy_on_loan=on_loan,
            loan_is_bridge_transit=transit,
            member_copy_in_remote_storage=member_in_remote_storage,
            first_seen=first_seen,
            now=self._clock.now(),
            grace_hours=self._grace_hours,
        )
        return Plan(
            institution,
            request,
            route,
            pickup,
            decision,
            target,
            original,
            member_mms_id,
            member_user_id,
            member_item,
            holding_id,
        )

    async def _original(
        self, member: AlmaGateway, request: RemoteStorageRequest, route: Route
    ) -> AlmaJson:
        """The member's request; its fields feed C2/C3 and the digitization body (R5)."""
        if route is Route.ITEM_HOLD:
            return {}
        try:
            if request.mms_id:
                found = await member.get_title_request(request.mms_id, request.request_id)
            elif request.patron_user_id:
                found = await member.get_user_request(request.patron_user_id, request.request_id)
            else:
                raise Unforwardable("neither mmsId nor a patron identifier to read the request by")
        except AlmaError as error:
            if _transient(error):
                raise
            raise Unforwardable(
                f"the member request cannot be read: {error}", error.error_code
            ) from error
        return found.raw

    async def _scf_bib(
        self, member: AlmaGateway, institution: str, member_mms_id: str | None
    ) -> ScfTarget | None:
        """The SCF bib of a title: by NZ id, else by the OWNING institution's 035 (R5 fix)."""
        if not member_mms_id:
            raise Unforwardable("no member MMS id to find the title by")
        try:
            bib = await member.get_bib(member_mms_id)
        except AlmaError as error:
            if _transient(error):
                raise
            raise Unforwardable(
                f"the member bib cannot be read: {error}", error.error_code
            ) from error
        scf = self._scf()
        network_id = nz_mms_id(bib.network_numbers)
        found = await scf.bibs_by_nz_id(network_id) if network_id else []
        if not found:
            found = await scf.bibs_by_other_system_id(other_system_id(institution, member_mms_id))
        mms_id = next((b.mms_id for b in found if b.mms_id), None)
        return ScfTarget(mms_id) if mms_id else None

    async def _title_holding(self, target: ScfTarget, original: AlmaJson) -> str | None:
        """Java's `getSCFHoldingByBib`: the default SCF location's holding, else the first."""
        if not text_at(original, "manual_description"):
            return None
        holdings = await self._scf().list_holdings(target.mms_id)
        default = resolve_scf_location(None, (), self._consortium.remote_storage)
        for holding in holdings:
            if holding.holding_id and holding_matches(holding.library, holding.location, default):
                return holding.holding_id
        return next((h.holding_id for h in holdings if h.holding_id), None)

    async def _in_transit(self, institution: str, barcode: str, target: ScfTarget) -> bool:
        """Whether the SCF copy's loan is the bridge's own I10 loan, not yet returned (R7).

        A LENDING row is a mirror the bridge created and owes that loan to: a loan on it is the
        one the bridge is making or has made without having recorded it yet (an items sync
        running beside this request, or one killed after Alma lent the item).
        """
        async with self._ledger.unit_of_work() as uow:
            mirror = await uow.items.get(institution, barcode)
        if mirror is None:
            return False
        if mirror.owes_loan:
            if not mirror.has_item_id:
                return (mirror.scf_mms_id, mirror.scf_holding_id) == (
                    target.mms_id,
                    target.holding_id,
                )
            return mirror.scf_item_pid == target.item_pid
        return (
            mirror.state is MirrorState.MIRRORED
            and mirror.scf_item_pid == target.item_pid
            and mirror.in_transit_loan
        )


async def _item_or_none(gateway: AlmaGateway, barcode: str) -> AlmaItem | None:
    try:
        return await gateway.item_by_barcode(barcode)
    except ItemNotFound:
        return None


def _item_target(item: AlmaItem | None) -> ScfTarget | None:
    if item is None or not item.mms_id or not item.holding_id or not item.pid:
        return None
    return ScfTarget(item.mms_id, item.holding_id, item.pid)
