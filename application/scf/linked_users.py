"""The SCF account of a member patron, for patron digitization requests (research §7.4.3).

A digitization is placed in the SCF for the patron's own linked account there, so that the SCF
delivers the scan to the patron. The order of lookups is the Java app's:

1. the member user (`GET /users/{id}` at the member);
2. when the member user is itself a linked copy of a user of a third institution, the SCF copy
   of that original user, else the original user (by its linking id, at its home institution) to
   create one from;
3. otherwise, when the member user has a linking id, the SCF copy of the member user;
4. still none: create the SCF copy (`POST /users?source_institution_code=&source_user_id=`).

A patron whose SCF account can be neither found nor created is not the patron's fault: the
request is left alone and reported, never cancelled (parity, commit `ba7e89f`). Transient Alma
errors and an exhausted quota propagate, so the caller retries later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.ports.alma.gateway import AlmaDirectory
from application.ports.alma.users import UsersPort
from application.shared.alma import (
    AlmaError,
    NotFound,
    TransientAlmaError,
    UnknownInstitution,
)
from domain.scf.institutions import RemoteStorage

log = logging.getLogger(__name__)


@dataclass
class ScfUserUnresolved(Exception):
    """The patron's SCF account could not be found or created; says why, with Alma's code."""

    reason: str
    error_code: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, self.reason)


@dataclass(frozen=True)
class ScfPatron:
    """The SCF user a patron digitization is placed for, and how it was found."""

    primary_id: str
    how: str


def _transient(error: AlmaError) -> bool:
    return isinstance(error, TransientAlmaError)


async def scf_patron(
    alma: AlmaDirectory, storage: RemoteStorage, source_institution: str, member_user_id: str
) -> ScfPatron:
    """The SCF account of `member_user_id` of `source_institution`, created when missing."""
    scf = alma.gateway(storage.institution)
    member = alma.gateway(source_institution)
    try:
        user = await member.get_user(member_user_id)
    except AlmaError as error:
        if _transient(error):
            raise
        raise ScfUserUnresolved(
            f"member user {member_user_id} of {source_institution} not found: {error}",
            error.error_code,
        ) from error
    home_institution = source_institution
    home_user_id = user.primary_id or member_user_id
    if user.source_link_id and user.source_institution_code:
        # The patron belongs to a third institution; the SCF copy must point at the original.
        home_institution = user.source_institution_code
        found = await _linked_copy(scf, user.source_link_id, home_institution)
        if found is not None:
            return found
        home_user_id = await _home_user_id(alma, home_institution, user.source_link_id)
    elif user.linking_id:
        found = await _linked_copy(scf, user.linking_id, source_institution)
        if found is not None:
            return found
    try:
        created = await scf.create_linked_user(home_institution, home_user_id)
    except AlmaError as error:
        if _transient(error):
            raise
        raise ScfUserUnresolved(
            f"could not create the SCF account of {home_institution} user {home_user_id}: {error}",
            error.error_code,
        ) from error
    if created.primary_id is None:
        raise ScfUserUnresolved(f"Alma created an SCF account for {home_user_id} without an id")
    return ScfPatron(created.primary_id, f"created from {home_institution} user {home_user_id}")


async def _linked_copy(scf: UsersPort, link_id: str, institution: str) -> ScfPatron | None:
    try:
        found = await scf.get_linked_user(link_id, institution)
    except NotFound:
        return None
    if found.primary_id is None:
        return None
    await _refresh(scf, found.primary_id)
    return ScfPatron(found.primary_id, f"linked copy of {institution} user {link_id}")


async def _refresh(scf: UsersPort, primary_id: str) -> None:
    """Copy the patron's current data into the SCF account; only logged on failure (parity)."""
    try:
        await scf.refresh_user(primary_id)
    except AlmaError as error:
        log.warning("refreshing SCF user %s failed: %s", primary_id, error)


async def _home_user_id(alma: AlmaDirectory, institution: str, link_id: str) -> str:
    """The original user's primary id at its home institution, found by its linking id."""
    try:
        home = await alma.gateway(institution).get_user(link_id, id_type="linking_id")
    except UnknownInstitution as error:
        raise ScfUserUnresolved(
            f"no API key for the patron's home institution {institution}"
        ) from error
    except AlmaError as error:
        if _transient(error):
            raise
        raise ScfUserUnresolved(
            f"the patron's home user (linking id {link_id}) at {institution} not found: {error}",
            error.error_code,
        ) from error
    if home.primary_id is None:
        raise ScfUserUnresolved(f"the home user {link_id} at {institution} has no primary id")
    return home.primary_id
