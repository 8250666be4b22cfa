"""How the bridge cancels a member request, as data (rule R8, research §7.6).

Each row says when it applies, the reason and note Alma records (and shows the patron), whether
the patron is notified, which endpoint scope is used and whose institution the request is in.
The five rows are the Java app's, word for word; ``SCF_CANCELED_MAPPED_REQUEST`` is new because
the bridge now knows exactly which member request an SCF request stands for.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum


class CancelReason(StrEnum):
    """Alma's cancellation reason codes that the bridge uses."""

    CANNOT_BE_FULFILLED = "CannotBeFulfilled"
    REQUEST_SWITCHED = "RequestSwitched"


class CancelScope(StrEnum):
    """Which Alma endpoint cancels the request."""

    SOURCE_REQUEST = "bib or user request"
    """``DELETE /bibs/{mms}/requests/{id}``, or ``/users/{uid}/requests/{id}`` without an MMS id."""
    ITEM_REQUEST = "item request"
    """``DELETE /bibs/{mms}/holdings/{hol}/items/{pid}/requests/{id}``."""
    USER_REQUEST = "user request"
    """``DELETE /users/{uid}/requests/{id}``."""
    BIB_REQUEST = "bib request"
    """``DELETE /bibs/{mms}/requests/{id}``."""


class RequestOwner(StrEnum):
    """Whose API key cancels: the institution that holds the member request."""

    SOURCE = "the institution whose requests file held the request"
    PROVENANCE = "the owner named by the SCF item's provenance"
    TAG = "the institution named by the Source Request tag"


@dataclass(frozen=True)
class Cancellation:
    """One way of cancelling a member request."""

    situation: str
    reason: CancelReason
    note: str
    notify_user: bool | None
    """None: the parameter is not sent, and Alma applies its default."""
    scope: CancelScope
    owner: RequestOwner

    def query(self) -> dict[str, str]:
        """The query parameters, unencoded, in the order the Java app sent them."""
        parameters = {"reason": self.reason.value}
        if self.notify_user is not None:
            parameters["notify_user"] = "true" if self.notify_user else "false"
        parameters["note"] = self.note
        return parameters


NOT_FULFILLED_BY_SCF = Cancellation(
    situation="the SCF request could not be created",
    reason=CancelReason.CANNOT_BE_FULFILLED,
    note="Request could not be fulfilled by the SCF.",
    notify_user=True,
    scope=CancelScope.SOURCE_REQUEST,
    owner=RequestOwner.SOURCE,
)
ITEM_ON_LOAN = Cancellation(
    situation="the SCF copy is on loan",
    reason=CancelReason.CANNOT_BE_FULFILLED,
    note="Item is on loan",
    notify_user=None,
    scope=CancelScope.ITEM_REQUEST,
    owner=RequestOwner.SOURCE,
)
SCF_CANCELED_ITEM_REQUEST = Cancellation(
    situation="the SCF cancelled a request on an X-barcode item",
    reason=CancelReason.CANNOT_BE_FULFILLED,
    note="Remote storage cannot fulfill the request",
    notify_user=None,
    scope=CancelScope.ITEM_REQUEST,
    owner=RequestOwner.PROVENANCE,
)
SCF_CANCELED_TAGGED_REQUEST = Cancellation(
    situation="the SCF cancelled a request carrying a Source Request tag",
    reason=CancelReason.CANNOT_BE_FULFILLED,
    note="Request could not be fulfilled by the SCF.",
    notify_user=True,
    scope=CancelScope.USER_REQUEST,
    owner=RequestOwner.TAG,
)
SWITCHED_TO_REMOTE_STORAGE = Cancellation(
    situation="a patron digitization was created in the SCF",
    reason=CancelReason.REQUEST_SWITCHED,
    note="Request will be handled by the remote storage.",
    notify_user=False,
    scope=CancelScope.BIB_REQUEST,
    owner=RequestOwner.SOURCE,
)

CANCELLATION_TABLE = (
    NOT_FULFILLED_BY_SCF,
    ITEM_ON_LOAN,
    SCF_CANCELED_ITEM_REQUEST,
    SCF_CANCELED_TAGGED_REQUEST,
    SWITCHED_TO_REMOTE_STORAGE,
)
"""The five rows of research §7.6, in its order."""

SCF_CANCELED_MAPPED_REQUEST = dataclasses.replace(
    SCF_CANCELED_TAGGED_REQUEST,
    situation="the SCF cancelled a request the ledger maps to its member request",
    scope=CancelScope.SOURCE_REQUEST,
    owner=RequestOwner.SOURCE,
)
"""Like the tagged row (the patron is told), for a request the bridge itself forwarded."""
