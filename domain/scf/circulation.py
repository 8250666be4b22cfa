"""What the SCF's circulation events mean for the member that owns the item (rules C1, C2).

When the SCF returns the loan on a mirror, the member item is scanned in at its own library so the
member's transit completes. When the SCF cancels a request, exactly the member request behind it is
cancelled: the Java app cancelled every request on the member item (fix).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.scf.institutions import Consortium
from domain.scf.naming import member_barcode_of
from domain.scf.requests.cancellations import (
    SCF_CANCELED_ITEM_REQUEST,
    SCF_CANCELED_MAPPED_REQUEST,
    SCF_CANCELED_TAGGED_REQUEST,
    Cancellation,
)
from domain.scf.requests.comments import parse_internal_identifier, parse_source_request_tag
from domain.scf.requests.routing import SourceRequestRef
from domain.scf.webhooks import RequestCanceled
from domain.shared.alma_json import at, text_at


@dataclass(frozen=True)
class ScanIn:
    """Scan the member item in: ``POST …/items/{pid}?op=scan&library=…&circ_desk=…&done=true``."""

    institution: str
    barcode: str
    mms_id: str
    holding_id: str
    item_pid: str
    library: str
    circ_desk: str


@dataclass(frozen=True)
class ScanInRefused:
    """No scan-in: the reason names the barcode, institution or library staff must look at."""

    reason: str
    institution: str | None = None
    barcode: str | None = None


def plan_scan_in(
    scf_barcode: str,
    provenance: str | None,
    member_item: Mapping[str, Any],
    consortium: Consortium,
) -> ScanIn | ScanInRefused:
    """The scan-in at the owner after the SCF returned the loan on ``scf_barcode`` (rule C1).

    ``provenance`` is the SCF item's owner (rule N2); ``member_item`` the owner's item record.
    The library is the item's temporary library while it is in a temporary location, and the
    circulation desk the one configured for that library; without one the scan-in is refused
    by name (fix: the Java app sent ``circ_desk=null``).
    """
    barcode = member_barcode_of(scf_barcode)
    if barcode is None:
        return ScanInRefused(f"{scf_barcode} is not an SCF mirror (N1)", barcode=scf_barcode)
    if provenance is None or not provenance.strip():
        return ScanInRefused(f"SCF item {scf_barcode} has no provenance", barcode=barcode)
    owner = consortium.institution(provenance)
    if owner is None or consortium.is_scf(owner.code):
        return ScanInRefused(
            f"provenance {provenance} of SCF item {scf_barcode} is not a member institution",
            institution=provenance,
            barcode=barcode,
        )
    in_temp_location = at(member_item, "holding_data", "in_temp_location") is True
    library = (
        text_at(member_item, "holding_data", "temp_library", "value")
        if in_temp_location
        else text_at(member_item, "item_data", "library", "value")
    )
    mms_id = text_at(member_item, "bib_data", "mms_id")
    holding_id = text_at(member_item, "holding_data", "holding_id")
    item_pid = text_at(member_item, "item_data", "pid")
    wanted = (
        ("mms_id", mms_id),
        ("holding_id", holding_id),
        ("pid", item_pid),
        ("temp_library" if in_temp_location else "library", library),
    )
    missing = [name for name, value in wanted if value is None]
    if missing or mms_id is None or holding_id is None or item_pid is None or library is None:
        return ScanInRefused(
            f"member item {barcode} of {owner.code} has no {', '.join(missing)}",
            institution=owner.code,
            barcode=barcode,
        )
    configured = owner.library(library)
    circ_desk = configured.circ_desk if configured is not None else None
    if not circ_desk:
        return ScanInRefused(
            f"library {library} of {owner.code} has no circulation desk configured (circ_desc)",
            institution=owner.code,
            barcode=barcode,
        )
    return ScanIn(
        institution=owner.code,
        barcode=barcode,
        mms_id=mms_id,
        holding_id=holding_id,
        item_pid=item_pid,
        library=library,
        circ_desk=circ_desk,
    )


@dataclass(frozen=True)
class CancelMapped:
    """Cancel the member request the ledger recorded for this SCF request."""

    source: SourceRequestRef
    cancellation: Cancellation = SCF_CANCELED_MAPPED_REQUEST


@dataclass(frozen=True)
class CancelByTag:
    """Cancel ``/users/{uid}/requests/{rid}`` in the institution named by the comment's tag."""

    source: SourceRequestRef
    cancellation: Cancellation = SCF_CANCELED_TAGGED_REQUEST


@dataclass(frozen=True)
class CancelByInternalIdentifier:
    """Cancel request ``request_id`` on the member item ``member_barcode``.

    The owning institution comes from the SCF item's provenance, which the caller looks up.
    """

    request_id: str
    member_barcode: str
    scf_barcode: str
    cancellation: Cancellation = SCF_CANCELED_ITEM_REQUEST


@dataclass(frozen=True)
class NoMatch:
    """Nothing identifies the member request; recorded, nothing is cancelled."""

    reason: str


CancelPlan = CancelMapped | CancelByTag | CancelByInternalIdentifier | NoMatch


def plan_cancel_propagation(
    event: RequestCanceled, mapped_source: SourceRequestRef | None
) -> CancelPlan:
    """Which member request to cancel after the SCF cancelled one (rule C2).

    First the ledger's own record, then the ``{Source Request …}`` tag, then ``Internal
    identifier:`` together with the mirror's barcode. Never every request on the item.
    """
    if mapped_source is not None:
        return CancelMapped(mapped_source)
    tagged = parse_source_request_tag(event.comment)
    if tagged is not None:
        return CancelByTag(tagged)
    request_id = parse_internal_identifier(event.comment)
    if request_id is not None and event.barcode is not None and event.scf_barcode is not None:
        return CancelByInternalIdentifier(request_id, event.barcode, event.scf_barcode)
    if request_id is not None:
        return NoMatch(
            f"SCF request {event.request_id} names member request {request_id} but is on no "
            "mirrored item, so its owner is unknown"
        )
    return NoMatch(
        f"SCF request {event.request_id} carries no Source Request tag or internal identifier"
    )
