"""Whether a member request can be forwarded to the SCF now, later or never (rule R7).

The Java app cancelled the patron's request on any failure, outages and rate limits included, and
whenever the SCF copy was on loan, even on the loan the app itself made to move the item into
storage. Here a request is cancelled only for a definitive business reason. Transient failures
are not an input: they are retried and parked by the application, never turned into a cancel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.scf.requests.cancellations import ITEM_ON_LOAN, NOT_FULFILLED_BY_SCF, Cancellation
from domain.scf.requests.routing import Route

DEFAULT_REQUEST_GRACE_HOURS = 24.0


@dataclass(frozen=True)
class Forward:
    """Send the request to the SCF now."""

    reason: str


@dataclass(frozen=True)
class Wait:
    """Not yet: the copy may reach the SCF with the next items sync. Look again after ``until``."""

    until: datetime
    reason: str


@dataclass(frozen=True)
class Cancel:
    """Cancel the member request the way ``cancellation`` says."""

    cancellation: Cancellation
    reason: str


ForwardingDecision = Forward | Wait | Cancel


def decide_unforwardable(
    *,
    scf_copy_exists: bool,
    scf_copy_on_loan: bool,
    loan_is_bridge_transit: bool,
    member_copy_in_remote_storage: bool | None,
    first_seen: datetime,
    now: datetime,
    grace_hours: float = DEFAULT_REQUEST_GRACE_HOURS,
) -> ForwardingDecision:
    """Forward, wait or cancel a request whose SCF item or bib is what it is (rule R7).

    ``scf_copy_exists``: the SCF item (item level) or bib (title level) was found.
    ``scf_copy_on_loan``: the SCF item's process type is ``LOAN``.
    ``loan_is_bridge_transit``: that loan is the one the bridge made at I10 and no
    ``LOAN_RETURNED`` has been seen for it since, so the item is on its way into the SCF.
    ``member_copy_in_remote_storage``: per rule I5; None when it cannot be known (title level
    without an item), which waits out the grace period rather than cancelling at once.
    ``first_seen``: when the bridge first read this request; ``now`` comes from the clock.
    """
    if scf_copy_exists:
        if not scf_copy_on_loan:
            return Forward("the SCF copy is available")
        if loan_is_bridge_transit:
            return Forward(
                "the SCF copy is on the bridge's own transit loan; Alma queues the request"
            )
        return Cancel(ITEM_ON_LOAN, "the SCF copy is on loan")
    if member_copy_in_remote_storage is False:
        return Cancel(
            NOT_FULFILLED_BY_SCF, "not in the SCF and the member copy is not in remote storage"
        )
    until = first_seen + timedelta(hours=grace_hours)
    if now < until:
        return Wait(until, "not in the SCF yet; the next items sync may bring it")
    return Cancel(NOT_FULFILLED_BY_SCF, f"still not in the SCF after {grace_hours:g} hours")


def cancels_source_after_success(route: Route) -> bool:
    """Whether the member request is switched off once the SCF request exists (research §7.4).

    Only patron digitizations: the SCF now handles them. Staff and resource-sharing digitizations
    keep their member request (the Java app stopped cancelling them in 2026).
    """
    return route.is_patron_digitization
