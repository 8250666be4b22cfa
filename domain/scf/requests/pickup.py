"""Which member library a forwarded request is for, and so which SCF system user asks (R3).

The export names the pickup library by its display name (or gives a code), possibly in another
institution of the network. The SCF request is placed for the system user ``{INST}-{LIBRARY}``
(rule N3), so the name has to become a library code of the right institution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.scf.institutions import Consortium
from domain.scf.naming import system_user_id
from domain.scf.requests.routing import RemoteStorageRequest


class PickupSource(StrEnum):
    """How the pickup library was found; recorded so staff can see why a user was chosen."""

    NAME_IN_PICKUP_INSTITUTION = "name in the pickup institution's libraries"
    LIBRARY_CODE = "libraryCode of the request"
    NAME_IN_FILE_INSTITUTION = "name in the file institution's libraries"
    DEFAULT_LIBRARY = "default_library of the pickup institution"
    UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class PickupResolution:
    """The institution and library whose system user places the SCF request."""

    institution: str
    library: str | None
    how: PickupSource
    pickup_institution: str

    @property
    def system_user(self) -> str | None:
        """The SCF system user ``{institution}-{library}``, or None without a library."""
        if self.library is None:
            return None
        return system_user_id(self.institution, self.library)


def resolve_pickup_library(
    request: RemoteStorageRequest,
    file_institution: str,
    consortium: Consortium,
    library_codes_by_name: Mapping[str, Mapping[str, str]],
) -> PickupResolution:
    """The pickup library of ``request`` from ``file_institution``'s requests file (rule R3).

    In order: the pickup name among the libraries of ``institutionCode`` when that is given, else
    ``libraryCode``, else the name among the file institution's libraries when the pickup is at
    home and the request is not a digitization, else the pickup institution's
    ``default_library``. ``library_codes_by_name`` maps institution code to Alma's
    ``GET /conf/libraries`` names and codes. Digitizations are placed for the file's institution.
    """
    file_code = _configured_code(consortium, file_institution)
    pickup_code = (
        _configured_code(consortium, request.institution_code)
        if _given(request.institution_code)
        else file_code
    )
    name = request.pickup_library_name
    library: str | None
    if _given(request.institution_code):
        library = _code_of(library_codes_by_name, pickup_code, name)
        how = PickupSource.NAME_IN_PICKUP_INSTITUTION
    else:
        library = request.library_code if _given(request.library_code) else None
        how = PickupSource.LIBRARY_CODE
    if library is None and pickup_code == file_code and not request.is_digitization:
        library = _code_of(library_codes_by_name, file_code, name)
        how = PickupSource.NAME_IN_FILE_INSTITUTION
    if library is None:
        pickup_institution = consortium.institution(pickup_code)
        library = pickup_institution.default_library if pickup_institution else None
        how = PickupSource.DEFAULT_LIBRARY if library else PickupSource.UNRESOLVED
    institution = file_code if request.is_digitization else pickup_code
    return PickupResolution(institution, library or None, how, pickup_code)


def _given(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def _configured_code(consortium: Consortium, code: str | None) -> str:
    """The institution code as configured (Alma may differ in case), else as given."""
    given = (code or "").strip()
    institution = consortium.institution(given)
    return institution.code if institution is not None else given


def _code_of(
    library_codes_by_name: Mapping[str, Mapping[str, str]], institution: str, name: str | None
) -> str | None:
    if name is None or not name.strip():
        return None
    names = library_codes_by_name.get(institution)
    if names is None:
        wanted = institution.casefold()
        names = next(
            (codes for code, codes in library_codes_by_name.items() if code.casefold() == wanted),
            {},
        )
    return names.get(name) or None
