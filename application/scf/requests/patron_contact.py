"""The patron's contact fields, read again from the member's Alma when a stored request is
forwarded (rules P2, R5).

The ledger keeps no patron name, e-mail or postal address (P2), yet the R5 comment carries them
into the SCF request, where SCF staff rely on them. A request forwarded straight from its file
has them from the file; one forwarded later from the ledger (after waiting for its mirror, a
transient failure or an operator's replay) reads them here, as W6 reads a webhook's request:
name `Last, First`, the preferred e-mail and the preferred address of the user whose primary id
the export gave. Only the fields the export gave are filled in.

A transient Alma failure (or a spent quota) propagates, so the request is retried later and never
cancelled (R7). A user Alma no longer knows leaves those fields out of the comment; the request is
still forwarded, since the patron's request matters more than its comment.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from application.ports.alma.users import UsersPort
from application.shared.alma import AlmaError, TransientAlmaError
from domain.scf.requests.routing import PatronInfo, RemoteStorageRequest
from domain.shared.alma_json import text_at

log = logging.getLogger(__name__)

_ADDRESS_PARTS = ("line1", "line2", "line3", "line4", "line5", "city", "state_province")


async def with_patron_contact(
    member: UsersPort, request: RemoteStorageRequest, withheld: Collection[str]
) -> tuple[RemoteStorageRequest, str]:
    """`request` with its withheld contact fields read from the member's Alma, and how it went
    (`read from Alma`, or why not), for the event's details; never logs the fields."""
    patron = request.patron
    if not withheld or patron is None:
        return request, "not needed"
    identifier = patron.identifier
    if identifier is None or not identifier.strip():
        return request, "no patron identifier to read the contact fields by"
    try:
        user = await member.get_user(identifier)
    except TransientAlmaError:
        raise
    except AlmaError as error:
        log.info("request %s: the patron's contact fields cannot be read", request.request_id)
        return request, f"the patron's contact fields cannot be read: {error.error_code}"
    contact = contact_fields(user.raw)
    restored = PatronInfo(
        identifier=identifier,
        **{name: contact[name] for name in ("name", "email", "address") if name in withheld},
    )
    return replace(request, patron=restored), "read from Alma"


def contact_fields(user: Mapping[str, Any]) -> dict[str, str | None]:
    """Name (`Last, First`), preferred e-mail and preferred address of an Alma user."""
    return {"name": _name(user), "email": _email(user), "address": _address(user)}


def _name(user: Mapping[str, Any]) -> str | None:
    last, first = text_at(user, "last_name"), text_at(user, "first_name")
    if last and first:
        return f"{last}, {first}"
    return last or first or text_at(user, "full_name")


def _preferred(user: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    contact = user.get("contact_info")
    entries = contact.get(kind) if isinstance(contact, Mapping) else None
    if not isinstance(entries, list):
        return None
    usable = [entry for entry in entries if isinstance(entry, Mapping)]
    preferred = [entry for entry in usable if entry.get("preferred") is True]
    chosen = preferred or usable
    return chosen[0] if chosen else None


def _email(user: Mapping[str, Any]) -> str | None:
    entry = _preferred(user, "email")
    return None if entry is None else text_at(entry, "email_address")


def _address(user: Mapping[str, Any]) -> str | None:
    entry = _preferred(user, "address")
    if entry is None:
        return None
    parts = [text_at(entry, key) for key in _ADDRESS_PARTS]
    parts.append(text_at(entry, "postal_code"))
    parts.append(text_at(entry, "country", "desc") or text_at(entry, "country", "value"))
    text = ", ".join(part.strip() for part in parts if part)
    return text or None
