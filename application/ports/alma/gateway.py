"""Alma as the use cases call it (one gateway per institution) and the directory of gateways."""

from __future__ import annotations

from typing import Protocol

from application.ports.alma.catalog import CatalogPort
from application.ports.alma.conf import ConfPort
from application.ports.alma.items import ItemsPort
from application.ports.alma.loans import LoansPort
from application.ports.alma.requests import RequestsPort
from application.ports.alma.users import UsersPort
from application.shared.call_pacing import CallPacing


class AlmaGateway(ItemsPort, CatalogPort, RequestsPort, LoansPort, UsersPort, ConfPort, Protocol):
    """One institution's Alma REST API as the SCF bridge uses it (A1–A5): every role port at once.

    Use cases take the role ports they call (a `LoansPort`, a `CatalogPort`...); the directory
    hands out whole gateways because one institution's calls share one key and one throttle.
    Lists page with limit (≤ 100) and offset.
    """

    institution: str


class AlmaDirectory(CallPacing, Protocol):
    """Hands out the gateway of an institution code, member or SCF, and tells how many more calls
    each institution could take on (`CallPacing`, rule A4)."""

    def gateway(self, institution: str) -> AlmaGateway:
        """The gateway of this institution; `UnknownInstitution` when it has no API key."""
        ...
