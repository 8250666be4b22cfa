"""The facts reconciliation compares: the ledger, the member's items and requests, the SCF's.

Only reads: every call here is a GET, so a plan-only run changes nothing in Alma.

Per barcode (`ReconcileFacts.item`): the member item (its bib listed once, as the items sync
does, else by barcode), the SCF item `{b}X` (by the ledger's ids, one call, else by barcode)
and, only when the ledger says the bridge's I10 transit loan is owed or open and Alma shows the
mirror on loan, who has it: the system users' loans are listed once per run (`SystemUserLoans`),
because an item's own view does not name its borrower.

Per forwarded request (`ReconcileFacts.request`): the SCF request and the member's source
request by id; and, when the first is gone while the second is active, whether the SCF copy is
out of place (the SCF may have fulfilled the request rather than lost it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.ledger import Ledger
from application.scf.items.bib_items import MemberItems, list_bib_items
from application.scf.requests.request_data import request_from_json
from application.shared.alma import AlmaError, AlmaItem, AlmaRequest, ItemNotFound, NotFound
from application.shared.ledger_records import ForwardedRequest, MirroredItem, MirrorState
from application.shared.single_flight import KeyedLocks
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import in_remote_storage
from domain.scf.items.published import PublishedItem
from domain.scf.naming import member_barcode_of, provenance_of, scf_barcode, system_user_id
from domain.scf.reconciliation import (
    ON_LOAN,
    ItemFacts,
    MirrorRow,
    Renamed,
    RequestFacts,
    RequestState,
    ScfCopy,
    current_location,
    request_state,
)
from domain.scf.requests.routing import Route

LIVE = (MirrorState.CREATING, MirrorState.MIRRORED, MirrorState.LENDING)
"""Ledger states of a mirror that should exist in the SCF."""


@dataclass(frozen=True)
class ItemCase:
    """One barcode's facts, and the Alma records and ledger row its repairs start from."""

    barcode: str
    facts: ItemFacts
    published: PublishedItem | None
    row: MirroredItem | None
    """The live ledger row, if any."""
    member: AlmaItem | None
    scf: AlmaItem | None
    renamed_member: AlmaItem | None = None
    """The member item under its new barcode, when the member changed the barcode."""

    def moved_from(self, barcode: str) -> ItemCase:
        """This case as the target of another barcode's mirror moving here."""
        return replace(self, facts=replace(self.facts, moved_here_from=barcode))


@dataclass(frozen=True)
class RequestCase:
    """One forwarded request's facts and its ledger row."""

    row: ForwardedRequest
    facts: RequestFacts


def route_of(row: ForwardedRequest) -> Route | None:
    """The row's R4 route; None for a row the bridge could not route."""
    try:
        return Route(row.route)
    except ValueError:
        return None


def is_gone(error: AlmaError) -> bool:
    """Alma's answer for a request (or its bib or user) that no longer exists."""
    return isinstance(error, NotFound)


class SystemUserLoans:
    """Which system user `{INST}-{LIB}` (N3) has an SCF item on loan, listing each user's loans
    at most once per run: one call per 100 loans instead of one per item."""

    def __init__(self, scf: AlmaGateway, users: tuple[str, ...]) -> None:
        self._scf = scf
        self._users = users
        self._loans: dict[str, frozenset[str]] = {}
        self._locks: KeyedLocks[str] = KeyedLocks()

    async def borrower(self, item_pid: str, expected: str) -> str | None:
        """`expected` when it has the item on loan, else another system user who has, else
        None (on loan to someone who is not a system user)."""
        for user in (expected, *(u for u in self._users if u != expected)):
            if item_pid in await self._item_pids(user):
                return user
        return None

    async def _item_pids(self, user: str) -> frozenset[str]:
        async with self._locks.hold(user):
            found = self._loans.get(user)
            if found is None:
                found = await self._list(user)
                self._loans[user] = found
            return found

    async def _list(self, user: str) -> frozenset[str]:
        pids: set[str] = set()
        offset: int | None = 0
        try:
            while offset is not None:
                page = await self._scf.list_user_loans(user, offset=offset)
                for loan in page.records:
                    raw = loan.raw
                    status = str(raw.get("loan_status") or "ACTIVE").upper()
                    if status == "ACTIVE" and raw.get("item_id"):
                        pids.add(str(raw["item_id"]))
                offset = page.next_offset
        except NotFound:
            return frozenset()  # staff have not created this system user: it lends nothing
        return frozenset(pids)


class ReconcileFacts:
    """Reads the facts of one member institution's barcodes and forwarded requests."""

    def __init__(
        self, alma: AlmaDirectory, ledger: Ledger, consortium: Consortium, institution: str
    ) -> None:
        self._ledger = ledger
        self._inst = institution
        self._consortium = consortium
        self._ignore_deletes = consortium.ignore_delete_files
        self._scf = alma.gateway(consortium.remote_storage.institution)
        self._member = alma.gateway(institution)
        self._members = MemberItems(self._member)
        users = tuple(
            system_user_id(member.code, library.code)
            for member in consortium.members
            for library in member.libraries
        )
        self._loans = SystemUserLoans(self._scf, users)

    # ---- items -----------------------------------------------------------------------------

    async def item(
        self,
        barcode: str,
        published: PublishedItem | None,
        row: MirroredItem | None,
        member: AlmaItem | None = None,
    ) -> ItemCase:
        """The facts of one barcode; `member` when it is known already (a barcode change)."""
        if member is None:
            member = await self._member_item(barcode, published, row)
        scf = await self._scf_item(barcode, row)
        if row is not None and not row.has_item_id and scf is not None:
            row = _resolved(row, scf)
        if published is not None:
            library, location = published.library, published.location
            expected = not published.deleted and in_remote_storage(
                self._consortium, self._inst, library, location
            )
        elif member is not None:
            library, location = current_location(member.raw)
            expected = in_remote_storage(self._consortium, self._inst, library, location)
        else:
            library, expected = None, False
        system_user = system_user_id(self._inst, library) if library else None
        mirror_row = None
        if row is not None:
            owed = row.owes_loan
            mirror_row = MirrorRow(row.scf_item_pid, owed, row.in_transit_loan)
        borrower = await self._borrower(row, scf, system_user)
        facts = ItemFacts(
            institution=self._inst,
            barcode=barcode,
            in_remote_storage=expected,
            row=mirror_row,
            scf=ScfCopy(scf.raw, borrower) if scf is not None else None,
            member=member.raw if member is not None else None,
            system_user=system_user,
            ignore_delete_files=self._ignore_deletes,
        )
        return ItemCase(barcode, facts, published, row, member, scf)

    async def renamed(self, case: ItemCase, member: AlmaItem, target: ItemCase) -> ItemCase:
        """`case` (a row whose member item is gone under its barcode) knowing that `member` is
        that item under `target`'s barcode: the loan goes to the system user of the item's
        library now, so the borrower is looked up for it."""
        facts = case.facts
        renamed = Renamed(target.barcode, target.facts.in_remote_storage, target.scf is not None)
        system_user = target.facts.system_user
        scf = facts.scf
        if scf is not None:
            borrower = await self._borrower(case.row, case.scf, system_user)
            scf = replace(scf, borrower=borrower)
        facts = replace(facts, renamed=renamed, system_user=system_user, scf=scf)
        return replace(case, facts=facts, renamed_member=member)

    async def _borrower(
        self, row: MirroredItem | None, scf: AlmaItem | None, system_user: str | None
    ) -> str | None:
        """Who has the mirror on loan; asked only when the ledger says the bridge's transit
        loan is owed or open and Alma shows the mirror on loan."""
        if row is None or scf is None or system_user is None:
            return None
        expects_loan = row.owes_loan or row.in_transit_loan
        if scf.pid != row.scf_item_pid or scf.process_type != ON_LOAN or not expects_loan:
            return None
        return await self._loans.borrower(row.scf_item_pid, system_user)

    async def renamed_member(self, row: MirroredItem) -> AlmaItem | None:
        """The member item a row mirrored, found by its pid under its bib, when it now has
        another barcode (the Java app left a second SCF item behind then, research §13)."""
        if not row.member_mms_id or not row.member_item_pid:
            return None
        found = await self._members.item_by_pid(row.member_mms_id, row.member_item_pid)
        if found is None or not found.barcode or found.barcode == row.barcode:
            return None
        return found

    async def row(self, barcode: str) -> MirroredItem | None:
        """The ledger's live row of a barcode, if any."""
        async with self._ledger.unit_of_work() as uow:
            row = await uow.items.get(self._inst, barcode)
        return row if row is not None and row.state in LIVE else None

    async def _member_item(
        self, barcode: str, published: PublishedItem | None, row: MirroredItem | None
    ) -> AlmaItem | None:
        mms_id = published.member_mms_id if published is not None else None
        if not mms_id and row is not None:
            mms_id = row.member_mms_id
        if mms_id:
            return await self._members.item(mms_id, barcode)
        try:
            return await self._member.item_by_barcode(barcode)
        except ItemNotFound:
            return None

    async def _scf_item(self, barcode: str, row: MirroredItem | None) -> AlmaItem | None:
        wanted = scf_barcode(barcode)
        # A CREATING row (killed between recording and creating) has no ids to follow.
        if row is not None and row.has_item_id:
            try:
                found = await self._scf.get_item(
                    row.scf_mms_id, row.scf_holding_id, row.scf_item_pid
                )
            except NotFound:
                found = None
            if found is not None and found.barcode == wanted:
                return found
        # No row, or the row's ids lead nowhere (the mirror was made again, or moved bib).
        try:
            return await self._scf.item_by_barcode(wanted)
        except ItemNotFound:
            return None

    # ---- requests --------------------------------------------------------------------------

    async def request(self, row: ForwardedRequest) -> RequestCase:
        """The facts of one forwarded request (its row has an SCF request id)."""
        assert row.scf_request_id is not None
        route = route_of(row)
        facts = RequestFacts(
            institution=self._inst,
            request_id=row.source_request_id,
            barcode=row.barcode,
            route=route,
            scf_request_id=row.scf_request_id,
            scf=RequestState.UNKNOWN,
            source=RequestState.UNKNOWN,
        )
        if route is not None and route.is_patron_digitization:
            return RequestCase(row, facts)  # its source request is switched off by design
        scf = await self._scf_request(row, row.scf_request_id)
        source = await self._source_request(row)
        busy = False
        if scf is RequestState.GONE and source is RequestState.ACTIVE:
            busy = await self._scf_copy_busy(row, route)
        return RequestCase(row, replace(facts, scf=scf, source=source, scf_copy_busy=busy))

    async def _scf_request(self, row: ForwardedRequest, scf_request_id: str) -> RequestState:
        try:
            if row.scf_mms_id:
                found = await self._scf.get_title_request(row.scf_mms_id, scf_request_id)
            elif row.user_id:
                found = await self._scf.get_user_request(row.user_id, scf_request_id)
            else:
                return RequestState.UNKNOWN
        except AlmaError as error:
            if is_gone(error):
                return RequestState.GONE
            raise
        return request_state(found.raw)

    async def _source_request(self, row: ForwardedRequest) -> RequestState:
        request_id = row.source_request_id
        found: AlmaRequest
        try:
            if row.mms_id:
                # Alma's bib endpoint answers for item- and title-level requests alike.
                found = await self._member.get_title_request(row.mms_id, request_id)
            else:
                request, _ = request_from_json(row.request_data)
                patron = request.patron_user_id
                if patron is None:
                    return RequestState.UNKNOWN
                found = await self._member.get_user_request(patron, request_id)
        except AlmaError as error:
            if is_gone(error):
                return RequestState.GONE
            raise
        return request_state(found.raw)

    async def _scf_copy_busy(self, row: ForwardedRequest, route: Route | None) -> bool:
        """Whether an SCF copy the request could have been filled from is out of place for a
        reason other than the bridge's own transit loan."""
        candidates: list[AlmaItem]
        if route is not None and not route.is_title_level and row.barcode:
            try:
                candidates = [await self._scf.item_by_barcode(scf_barcode(row.barcode))]
            except ItemNotFound:
                return False
        elif row.scf_mms_id:
            candidates = list((await list_bib_items(self._scf, row.scf_mms_id)).by_barcode.values())
        else:
            return False
        for item in candidates:
            process = item.process_type or ""
            if process and not (process == ON_LOAN and await self._transit_loan(item)):
                return True
        return False

    async def _transit_loan(self, item: AlmaItem) -> bool:
        """The SCF item's loan is its mirror's open I10 transit loan (the ledger knows, R7)."""
        barcode = member_barcode_of(item.barcode or "")
        owner = provenance_of(item.raw) or self._inst
        member = self._consortium.institution(owner)
        if barcode is None or member is None:
            return False
        async with self._ledger.unit_of_work() as uow:
            row = await uow.items.get(member.code, barcode)
        return (
            row is not None
            and row.state in LIVE
            and row.scf_item_pid == item.pid
            and row.in_transit_loan
        )


def index_by_pid(cases: Mapping[str, ItemCase]) -> dict[str, AlmaItem]:
    """Member items of the gathered cases by pid (a barcode change shows up as a published
    barcode whose member pid a ledger row of another barcode remembers)."""
    return {
        case.member.pid: case.member
        for case in cases.values()
        if case.member is not None and case.member.pid
    }


def _resolved(row: MirroredItem, scf: AlmaItem) -> MirroredItem:
    """A CREATING row (written before its item was created, then a crash) names the item found
    by barcode when it sits under the row's bib and holding: the creation did happen, so the
    item is the one this row owes its transit loan for, as the items sync decides (I10). An
    item elsewhere stays unexplained: the row is left as it is and found stale."""
    if (scf.mms_id, scf.holding_id) != (row.scf_mms_id, row.scf_holding_id) or not scf.pid:
        return row
    return replace(row, scf_item_pid=scf.pid, state=MirrorState.LENDING)
