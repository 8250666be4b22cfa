"""Reconciliation: what differs between the SCF mirrors that should exist and what Alma holds.

*Expected* is what the rules say the SCF should hold for a member: a mirror ``{b}X`` for every
item in remote storage (I5), lent to the system user ``{INST}-{$c}`` while the bridge's I10
transit loan is open, with the member's metadata copied over it (I11), and an SCF request for
every member request the bridge forwarded (R4). *Actual* is what Alma answers for each barcode
and request. The application gathers both as facts; the functions here only compare them and
say what is wrong (a `Finding`) and which repair makes it right (a `Repair`), so each verdict is
a pure, tested rule:

* a mirror that should exist and does not: ``MISSING_MIRROR`` (create it, I7–I10);
* a mirror whose member item is gone or no longer in remote storage: ``ORPHAN_MIRROR``
  (delete it, I12; kept when ``ignore_delete_files`` says deletions are not carried out, I6);
* a mirror whose fields differ from what I11 would write: ``DRIFT`` (PUT it again);
* a transit loan the ledger says is open but Alma does not show: ``MISSING_LOAN`` (lend again);
  the mirror on loan to another system user: ``WRONG_LOAN`` (scan it in, lend it correctly);
* the member item a mirror stands for now carries another barcode: ``BARCODE_CHANGED`` (give
  the mirror the new barcode, keeping its loan and requests, or delete it when the new barcode
  already has its own mirror), so there is one SCF item per member item again;
* a forwarded request whose SCF request is gone while the member's is active:
  ``REQUEST_LOST_IN_SCF`` (forward it again), and the reverse, ``REQUEST_LOST_AT_SOURCE``
  (cancel the SCF request);
* the ledger alone is wrong while Alma is fine: ``LEDGER_STALE`` (correct the ledger only);
* facts that could not be read: ``CHECK_FAILED`` (nothing to repair; look again later).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from domain.scf.items.item_records import updated_scf_item
from domain.scf.naming import provenance_of, scf_barcode
from domain.scf.requests.cancellations import CancelReason
from domain.scf.requests.routing import Route
from domain.shared.alma_json import at, text_at

ON_LOAN = "LOAN"
"""``item_data.process_type.value`` of an item on loan."""

INACTIVE_REQUEST_STATUSES = frozenset({"HISTORY", "CANCELLED", "CANCELED", "COMPLETED"})
"""``request_status`` values of a request that is over (the fake and Alma answer ``HISTORY``)."""

SCF_CANCEL_REASON = CancelReason.CANNOT_BE_FULFILLED
"""Why reconciliation cancels an SCF request whose member request is gone."""


class FindingKind(StrEnum):
    """What is wrong."""

    MISSING_MIRROR = "missing_mirror"
    ORPHAN_MIRROR = "orphan_mirror"
    DRIFT = "drift"
    MISSING_LOAN = "missing_loan"
    WRONG_LOAN = "wrong_loan"
    BARCODE_CHANGED = "barcode_changed"
    REQUEST_LOST_IN_SCF = "request_lost_in_scf"
    REQUEST_LOST_AT_SOURCE = "request_lost_at_source"
    LEDGER_STALE = "ledger_stale"
    CHECK_FAILED = "check_failed"


class Repair(StrEnum):
    """What makes it right; the application carries each out through the services."""

    CREATE_MIRROR = "create_mirror"
    """I7–I10: bib, holding, item, transit loan, as the items sync creates a mirror."""
    DELETE_MIRROR = "delete_mirror"
    """I12: delete ``{b}X``, scanning it in at the SCF desk first when it is on loan."""
    MOVE_MIRROR = "move_mirror"
    """PUT the mirror with the member's new barcode ``{new}X`` (its loan and requests stay)."""
    UPDATE_MIRROR = "update_mirror"
    """I11: PUT the member's metadata over the mirror."""
    LEND = "lend"
    """I10: lend the mirror to the system user."""
    RELEND = "relend"
    """Scan the mirror in at the SCF desk, then lend it to the right system user (I10)."""
    FORGET_MIRROR = "forget_mirror"
    """Ledger only: the mirror is gone, mark its row deleted."""
    RECORD_MIRROR = "record_mirror"
    """Ledger only: record the SCF item Alma has as the barcode's mirror."""
    RECORD_LOAN = "record_loan"
    """Ledger only: the transit loan the ledger says is owed was made."""
    RECORD_LOAN_RETURNED = "record_loan_returned"
    """Ledger only: the bridge's transit loan is over (the SCF lent or works with the item)."""
    FORWARD_AGAIN = "forward_again"
    """R4: forward the member request to the SCF again."""
    CANCEL_SCF_REQUEST = "cancel_scf_request"
    """Cancel the SCF request whose member request is gone."""
    NONE = "none"
    """Nothing to repair: the facts could not be read."""


@dataclass(frozen=True)
class Finding:
    """One thing wrong for one barcode or request, and the repair that makes it right."""

    kind: FindingKind
    institution: str
    barcode: str | None
    request_id: str | None
    message: str
    repair: Repair
    plan: str
    """The repair in words, as the fix plan shows it."""
    changed_fields: tuple[str, ...] = ()
    new_barcode: str | None = None

    @property
    def subject(self) -> str:
        """The member barcode or the source request id the finding is about."""
        return self.request_id or self.barcode or "-"


# ---- items -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MirrorRow:
    """What the ledger's live ``mirrored_items`` row says of a barcode."""

    scf_item_pid: str
    loan_owed: bool
    """State LENDING: the mirror exists, its I10 loan still owed."""
    loan_open: bool
    """The bridge's I10 loan was made and no LOAN_RETURNED was seen since (rule R7)."""


@dataclass(frozen=True)
class ScfCopy:
    """The SCF item ``{b}X`` as Alma returned it, and who has it on loan when that was asked."""

    item: Mapping[str, Any]
    borrower: str | None = None
    """The system user the item is on loan to, when it was looked up; None when the loan was
    not looked up or belongs to nobody among the system users."""

    @property
    def item_pid(self) -> str | None:
        return text_at(self.item, "item_data", "pid")

    @property
    def process_type(self) -> str:
        """``""`` for an item in place, ``LOAN`` on loan, ``TRANSIT``, ``HOLDSHELF``, …"""
        return text_at(self.item, "item_data", "process_type", "value") or ""

    @property
    def on_loan(self) -> bool:
        return self.process_type == ON_LOAN


@dataclass(frozen=True)
class Renamed:
    """The member item a mirror stands for now has another barcode."""

    barcode: str
    in_remote_storage: bool
    mirror_exists: bool
    """``{new}X`` is in the SCF already (e.g. a sync since the change created it)."""


@dataclass(frozen=True)
class ItemFacts:
    """Everything known about one member barcode, expected and actual."""

    institution: str
    barcode: str
    in_remote_storage: bool
    """Expected: the publishing file's ITM, else the member item, says remote storage (I5)."""
    row: MirrorRow | None
    """The ledger's live row (mirrored or lending), if any."""
    scf: ScfCopy | None
    member: Mapping[str, Any] | None
    """The member item with this barcode, if the member has one."""
    system_user: str | None
    """``{INST}-{$c}``: who the transit loan goes to (N3), when the library is known."""
    renamed: Renamed | None = None
    moved_here_from: str | None = None
    """Another barcode's mirror is being given this barcode (its BARCODE_CHANGED repair)."""
    ignore_delete_files: bool = False


def current_location(member_item: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The library and location of a member item as publishing's ITM ``$c``/``$l`` give them:
    the temporary ones while the item is in a temporary location (rule I3)."""
    if at(member_item, "holding_data", "in_temp_location") is True:
        return (
            text_at(member_item, "holding_data", "temp_library", "value"),
            text_at(member_item, "holding_data", "temp_location", "value"),
        )
    return (
        text_at(member_item, "item_data", "library", "value"),
        text_at(member_item, "item_data", "location", "value"),
    )


def classify_item(facts: ItemFacts) -> tuple[Finding, ...]:
    """What is wrong with one barcode's mirror, in the order the repairs must run.

    Raises ``MalformedItem`` when a present SCF or member item has no ``item_data``.
    """
    if facts.renamed is not None and facts.row is not None:
        return _renamed(facts, facts.renamed)
    if facts.moved_here_from is not None:
        # The old barcode's BARCODE_CHANGED repair gives its mirror this barcode.
        return ()
    scf = facts.scf
    wanted = facts.in_remote_storage and facts.member is not None
    mirror = scf_barcode(facts.barcode)
    if scf is None:
        if wanted:
            known = " (the ledger remembers one)" if facts.row is not None else ""
            return (
                _finding(
                    facts,
                    FindingKind.MISSING_MIRROR,
                    f"the member item is in remote storage but the SCF has no {mirror}{known}",
                    Repair.CREATE_MIRROR,
                    f"create {mirror} (bib, holding, item) and lend it to "
                    f"{facts.system_user} (I7-I10)",
                ),
            )
        if facts.row is not None:
            return (
                _finding(
                    facts,
                    FindingKind.LEDGER_STALE,
                    f"the ledger says {mirror} exists, but the SCF has none and the member "
                    f"item is {_absence(facts)}",
                    Repair.FORGET_MIRROR,
                    "mark the ledger row deleted",
                ),
            )
        return ()
    owner = provenance_of(scf.item)
    ours = facts.row is not None or (
        owner is not None and owner.casefold() == facts.institution.casefold()
    )
    if not ours:
        return ()  # an SCF item of another owner that happens to carry this barcode (N2)
    if not wanted:
        if facts.ignore_delete_files:
            return ()  # I6: deletions are not carried out, so the mirror stays on purpose
        return (_orphan(facts, scf, f"the member item is {_absence(facts)}"),)
    assert facts.member is not None  # wanted
    findings: list[Finding] = []
    if facts.row is None or facts.row.scf_item_pid != scf.item_pid:
        findings.append(
            _finding(
                facts,
                FindingKind.LEDGER_STALE,
                f"the ledger does not record SCF item {scf.item_pid} as the mirror {mirror}",
                Repair.RECORD_MIRROR,
                f"record SCF item {scf.item_pid} in the ledger",
            )
        )
    update = updated_scf_item(scf.item, facts.member)
    if update.changed:
        fields = ", ".join(update.changed_fields)
        findings.append(
            _finding(
                facts,
                FindingKind.DRIFT,
                f"{mirror} differs from the member item in {fields}",
                Repair.UPDATE_MIRROR,
                f"PUT the member's {fields} over {mirror} (I11)",
                changed_fields=update.changed_fields,
            )
        )
    if facts.row is not None and facts.row.scf_item_pid == scf.item_pid:
        loan = _loan(facts, facts.row, scf)
        if loan is not None:
            findings.append(loan)
    return tuple(findings)


def _absence(facts: ItemFacts) -> str:
    if facts.member is None:
        return "gone"
    library, location = current_location(facts.member)
    return f"not in remote storage ({library or '-'}/{location or '-'}, I5)"


def _orphan(facts: ItemFacts, scf: ScfCopy, why: str) -> Finding:
    mirror = scf_barcode(facts.barcode)
    steps = (
        f"scan {mirror} in at the SCF desk (it is on loan), then delete it (I12)"
        if scf.on_loan
        else f"delete {mirror} (I12)"
    )
    return _finding(
        facts, FindingKind.ORPHAN_MIRROR, f"{mirror} exists but {why}", Repair.DELETE_MIRROR, steps
    )


def _renamed(facts: ItemFacts, renamed: Renamed) -> tuple[Finding, ...]:
    """The member item behind the row now has the barcode ``renamed.barcode`` (research §13)."""
    old, new = scf_barcode(facts.barcode), scf_barcode(renamed.barcode)
    scf = facts.scf
    changed = f"the member item's barcode changed from {facts.barcode} to {renamed.barcode}"
    if scf is None:
        return (
            _finding(
                facts,
                FindingKind.LEDGER_STALE,
                f"{changed}, and the SCF no longer has {old}",
                Repair.FORGET_MIRROR,
                f"mark the ledger row deleted; {renamed.barcode} is checked on its own",
                new_barcode=renamed.barcode,
            ),
        )
    if not renamed.in_remote_storage:
        if facts.ignore_delete_files:
            return ()
        return (_orphan(facts, scf, f"{changed} and it is no longer in remote storage (I5)"),)
    if renamed.mirror_exists:
        steps = f"{new} exists already: delete the left-behind {old}" + (
            " after scanning it in at the SCF desk" if scf.on_loan else ""
        )
        return (
            _finding(
                facts,
                FindingKind.BARCODE_CHANGED,
                f"{changed}; {old} was left behind next to {new}",
                Repair.DELETE_MIRROR,
                steps,
                new_barcode=renamed.barcode,
            ),
        )
    move = _finding(
        facts,
        FindingKind.BARCODE_CHANGED,
        f"{changed}; the SCF still has {old}",
        Repair.MOVE_MIRROR,
        f"give {old} the barcode {new} (its loan and requests stay) and move the ledger row",
        new_barcode=renamed.barcode,
    )
    # The move keeps the mirror's loan as it is, so its loan is judged now, under the barcode
    # the row moves to (the moved mirror's metadata is PUT with the move: no drift left).
    row = facts.row
    assert row is not None  # only a ledger row can have been renamed
    loan = None
    if row.scf_item_pid == scf.item_pid:
        loan = _loan(replace(facts, barcode=renamed.barcode), row, scf)
    return (move,) if loan is None else (move, loan)


def _loan(facts: ItemFacts, row: MirrorRow, scf: ScfCopy) -> Finding | None:
    """The I10 transit loan: owed (LENDING) or open in the ledger means Alma must show it."""
    if not (row.loan_owed or row.loan_open) or facts.system_user is None:
        return None
    mirror = scf_barcode(facts.barcode)
    user = facts.system_user
    if scf.on_loan:
        if scf.borrower == user:
            if not row.loan_owed:
                return None
            return _finding(
                facts,
                FindingKind.LEDGER_STALE,
                f"the ledger says the loan of {mirror} to {user} is still owed, but Alma shows it",
                Repair.RECORD_LOAN,
                "record the loan in the ledger",
            )
        if scf.borrower is not None:
            return _finding(
                facts,
                FindingKind.WRONG_LOAN,
                f"{mirror} is on loan to {scf.borrower}, not to {user}",
                Repair.RELEND,
                f"scan {mirror} in at the SCF desk, then lend it to {user} (I10)",
            )
        return _finding(
            facts,
            FindingKind.LEDGER_STALE,
            f"{mirror} is on loan to someone other than the system users: the bridge's "
            "transit loan is over",
            Repair.RECORD_LOAN_RETURNED,
            "record the transit loan as returned in the ledger",
        )
    if scf.process_type:
        # The SCF works with the item (in transit, on the hold shelf, digitizing): the loan was
        # returned by SCF staff, so lending it again would take it from their workflow.
        return _finding(
            facts,
            FindingKind.LEDGER_STALE,
            f"{mirror} is {scf.process_type} in the SCF: the bridge's transit loan is over",
            Repair.RECORD_LOAN_RETURNED,
            "record the transit loan as returned in the ledger",
        )
    owed = "owed since its creation" if row.loan_owed else "open in the ledger"
    return _finding(
        facts,
        FindingKind.MISSING_LOAN,
        f"the transit loan of {mirror} to {user} is {owed}, but Alma shows no loan",
        Repair.LEND,
        f"lend {mirror} to {user} (I10)",
    )


def _finding(
    facts: ItemFacts,
    kind: FindingKind,
    message: str,
    repair: Repair,
    plan: str,
    *,
    changed_fields: tuple[str, ...] = (),
    new_barcode: str | None = None,
) -> Finding:
    return Finding(
        kind,
        facts.institution,
        facts.barcode,
        None,
        message,
        repair,
        plan,
        changed_fields=changed_fields,
        new_barcode=new_barcode,
    )


# ---- requests ----------------------------------------------------------------------------------


class RequestState(StrEnum):
    """Whether a request is still alive in one institution."""

    ACTIVE = "active"
    GONE = "gone"
    UNKNOWN = "unknown"


def request_state(request: Mapping[str, Any] | None) -> RequestState:
    """A request Alma returned (None: Alma has no such request) as alive or over."""
    if request is None:
        return RequestState.GONE
    status = (text_at(request, "request_status") or "").upper()
    return RequestState.GONE if status in INACTIVE_REQUEST_STATUSES else RequestState.ACTIVE


@dataclass(frozen=True)
class RequestFacts:
    """A forwarded member request, its SCF request and its source request."""

    institution: str
    request_id: str
    barcode: str | None
    route: Route | None
    scf_request_id: str
    scf: RequestState
    source: RequestState
    scf_copy_busy: bool = False
    """The SCF copy (or a copy of the SCF title) is out of place for another reason than the
    bridge's transit loan: the SCF may have fulfilled the request rather than lost it."""


def classify_request(facts: RequestFacts) -> tuple[Finding, ...]:
    """What is wrong with one forwarded request (rules R4, R7, C2)."""
    if facts.route is not None and facts.route.is_patron_digitization:
        return ()  # the member request is switched off on purpose once forwarded (§7.4.3)
    scf_id = facts.scf_request_id
    if facts.scf is RequestState.GONE and facts.source is RequestState.ACTIVE:
        if facts.scf_copy_busy:
            return ()  # most likely fulfilled: the item is on its way to the member
        return (
            _request_finding(
                facts,
                FindingKind.REQUEST_LOST_IN_SCF,
                f"SCF request {scf_id} is gone while the member request is still active",
                Repair.FORWARD_AGAIN,
                "forward the member request to the SCF again (R4)",
            ),
        )
    if facts.scf is RequestState.ACTIVE and facts.source is RequestState.GONE:
        return (
            _request_finding(
                facts,
                FindingKind.REQUEST_LOST_AT_SOURCE,
                f"SCF request {scf_id} is still active but the member request is gone",
                Repair.CANCEL_SCF_REQUEST,
                f"cancel SCF request {scf_id} ({SCF_CANCEL_REASON.value})",
            ),
        )
    return ()


def scf_cancel_note(institution: str, request_id: str) -> str:
    """The note of an SCF request cancelled because its member request is gone."""
    return f"Source request {institution}-{request_id} is no longer active (almabridge reconcile)."


def _request_finding(
    facts: RequestFacts, kind: FindingKind, message: str, repair: Repair, plan: str
) -> Finding:
    return Finding(kind, facts.institution, facts.barcode, facts.request_id, message, repair, plan)


def check_failed(
    institution: str, reason: str, *, barcode: str | None = None, request_id: str | None = None
) -> Finding:
    """A barcode or request whose facts could not be read: reported, never repaired."""
    return Finding(
        FindingKind.CHECK_FAILED,
        institution,
        barcode,
        request_id,
        f"could not be checked: {reason}",
        Repair.NONE,
        "none: check again later",
    )
