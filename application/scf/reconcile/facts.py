"""The facts reconciliation compares: the ledger, the member's items and requests, the SCF's.

Only reads: every call here is a GET, so a plan-only run changes nothing in Alma.

Per barcode (`ReconcileFacts.item`): the member item (its bib listed once, as the items sync
does, else by barcode), the SCF item `{b}X` (by the ledger's ids, one call, else by barcode)
and, only when the ledger says the bridge's I10 transit loan is owed or open and Alma shows the
mirror on loan, who has it: the system users' loans are listed once per run (`SystemUserLoans`),
because an item's own view does not name its borrower.

Per forwarded request (`ReconcileFacts.request`, read by `ForwardedRequestFacts`): the SCF
request and the member's source request by id; and, when the first is gone while the second is
active, whether the SCF copy is out of place (the SCF may have fulfilled the request rather than
lost it).
"""

from __future__ import annotations

from dataclasses import replace

from application.ports.alma.gateway import AlmaDirectory
from application.ports.ledger import Ledger
from application.scf.items.bib_items import MemberItems
from application.scf.reconcile.cases import LIVE, ItemCase, RequestCase
from application.scf.reconcile.request_facts import ForwardedRequestFacts
from application.scf.reconcile.system_user_loans import SystemUserLoans
from application.shared.alma import AlmaItem, ItemNotFound, NotFound
from application.shared.ledger_records import ForwardedRequest, MirroredItem, MirrorState
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import in_remote_storage
from domain.scf.items.published import PublishedItem
from domain.scf.naming import scf_barcode, system_user_id
from domain.scf.reconciliation import (
    ON_LOAN,
    ItemFacts,
    MirrorRow,
    Renamed,
    ScfCopy,
    current_location,
)


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
        self._requests = ForwardedRequestFacts(
            self._scf, self._member, ledger, consortium, institution
        )

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
        return await self._requests.request(row)


def _resolved(row: MirroredItem, scf: AlmaItem) -> MirroredItem:
    """A CREATING row (written before its item was created, then a crash) names the item found
    by barcode when it sits under the row's bib and holding: the creation did happen, so the
    item is the one this row owes its transit loan for, as the items sync decides (I10). An
    item elsewhere stays unexplained: the row is left as it is and found stale."""
    if (scf.mms_id, scf.holding_id) != (row.scf_mms_id, row.scf_holding_id) or not scf.pid:
        return row
    return replace(row, scf_item_pid=scf.pid, state=MirrorState.LENDING)
