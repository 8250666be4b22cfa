"""The foundation of the fake's state: clock, ids, institutions, API keys and conf.

It also holds the few lookups every layer needs (an item's active loan, its request queue).
The layers built on it (``state_catalog``, ``state_patrons``, ``state_circulation``) and the
final :class:`~adapters.fake_alma.state.FakeAlmaState` are the only code that changes state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from adapters.fake_alma import errors, templates
from adapters.fake_alma.call_log import CallLog
from adapters.fake_alma.clock import Clock, SystemClock
from adapters.fake_alma.ids import IdFactory
from adapters.fake_alma.model import (
    Institution,
    Item,
    Library,
    Loan,
    Location,
    NetworkZone,
    UserRequest,
)

LOAN_PERIOD = timedelta(days=28)
REQUEST_EXPIRY = timedelta(days=15)
# Request body fields the fake keeps and echoes back (the rest Alma computes).
REQUEST_BODY_KEYS = (
    "comment",
    "description",
    "manual_description",
    "volume",
    "issue",
    "part",
    "date_of_publication",
    "pickup_location_type",
    "pickup_location_library",
    "pickup_location_circulation_desk",
    "pickup_location_institution",
    "target_destination",
    "partial_digitization",
    "full_chapter",
    "chapter_or_article_title",
    "chapter_or_article_author",
    "required_pages_range",
    "copyrights_declaration_signed_by_patron",
    "last_interest_date",
    "additional_id",
)
TEMP_CODE_KEYS = ("temp_library", "temp_location", "temp_call_number_type", "temp_policy")


def truthy(value: object) -> bool:
    """Alma's string booleans ("true"/"false") and real ones alike."""
    return str(value).strip().lower() == "true"


class StateBase:
    """Institutions (chosen by API key), the network zone and the call log."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        network_code: str = "01AAA_NETWORK",
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.seed = seed
        self.institutions: dict[str, Institution] = {}
        self.network_zone = NetworkZone(network_code, IdFactory("0000", seed))
        self.call_log = CallLog()
        # API key → institution code. Keys are secrets: nothing here ever prints them.
        self._api_keys: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"FakeAlmaState(institutions={sorted(self.institutions)})"

    def add_institution(
        self,
        code: str,
        *,
        name: str | None = None,
        number: str | None = None,
        api_keys: Iterable[str] = (),
        network_member: bool = True,
        per_second_threshold: int = 25,
        daily_quota: int = 100_000,
    ) -> Institution:
        """Add an institution answering to ``api_keys``; ``number`` ends its ids (4 digits)."""
        if code in self.institutions:
            raise ValueError(f"institution {code} is defined twice")
        number = number or f"{4101 + 100 * len(self.institutions):04d}"
        institution = Institution(
            code=code,
            name=name or code,
            number=number,
            ids=IdFactory(number, self.seed),
            network_member=network_member,
            per_second_threshold=per_second_threshold,
            daily_quota=daily_quota,
        )
        self.institutions[code] = institution
        for key in api_keys:
            self.add_api_key(code, key)
        return institution

    def add_api_key(self, institution: str, key: str) -> None:
        """Let ``key`` act for ``institution``."""
        self.institution(institution)
        if not key:
            raise ValueError("an API key cannot be empty")
        if key in self._api_keys:
            raise ValueError(f"an API key is configured twice (institution {institution})")
        self._api_keys[key] = institution

    def institution_for_key(self, key: str | None) -> str | None:
        """The institution an API key belongs to, or None."""
        if not key:
            return None
        return self._api_keys.get(key)

    def institution(self, code: str) -> Institution:
        """The institution with this code (KeyError names it when absent)."""
        try:
            return self.institutions[code]
        except KeyError:
            raise KeyError(f"no institution {code} in the fake") from None

    def _now(self) -> datetime:
        return self.clock.now()

    def add_library(
        self,
        institution: str,
        code: str,
        *,
        name: str | None = None,
        description: str | None = None,
        circ_desks: Mapping[str, str] | None = None,
        departments: Mapping[str, str] | None = None,
        campus: str = "",
        resource_sharing: bool = False,
        default_location: str | None = None,
    ) -> Library:
        """Add a library (``circ_desks`` maps desk code → name; default DEFAULT_CIRC_DESK)."""
        inst = self.institution(institution)
        if code in inst.libraries:
            raise ValueError(f"library {code} is defined twice in {institution}")
        library = Library(
            code=code,
            id=inst.ids.library_id(),
            name=name or code,
            path=f"{institution.split('_')[0]}.{institution}.{code}",
            description=description,
            resource_sharing=resource_sharing,
            campus=campus,
            default_location=default_location,
            circ_desks=dict(circ_desks or {"DEFAULT_CIRC_DESK": "Circulation Desk"}),
            departments=dict(departments or {}),
        )
        inst.libraries[code] = library
        return library

    def add_location(
        self,
        institution: str,
        library: str,
        code: str,
        *,
        name: str | None = None,
        external_name: str | None = None,
        type: str = "OPEN",
        remote_storage: str = "",
    ) -> Location:
        """Add a location to a library; ``type`` is OPEN, CLOSED or REMOTE."""
        lib = self.library(institution, library)
        if code in lib.locations:
            raise ValueError(f"location {code} is defined twice in {institution}/{library}")
        type_desc = {"OPEN": "Open", "CLOSED": "Closed", "REMOTE": "Remote Storage"}.get(type, type)
        location = Location(
            code=code,
            name=name or code,
            external_name=external_name if external_name is not None else (name or code),
            type=type,
            type_desc=type_desc,
            remote_storage=remote_storage,
        )
        lib.locations[code] = location
        if lib.default_location is None:
            lib.default_location = code
        return location

    def library(self, institution: str, code: str) -> Library:
        """A library, or Alma's error for an unknown code."""
        lib = self.institution(institution).libraries.get(code)
        if lib is None:
            raise errors.invalid_library(code)
        return lib

    def location(self, institution: str, library: str, code: str) -> Location:
        """A location of a library, or Alma's error."""
        loc = self.library(institution, library).locations.get(code)
        if loc is None:
            raise errors.invalid_location(library, code)
        return loc

    def _library_name(self, inst: Institution, code: str | None) -> str | None:
        lib = inst.libraries.get(code or "")
        return lib.name if lib else None

    def _location_name(
        self, inst: Institution, library: str | None, code: str | None
    ) -> str | None:
        lib = inst.libraries.get(library or "")
        loc = lib.locations.get(code or "") if lib else None
        return loc.name if loc else None

    def _queue(self, inst: Institution, item_pid: str) -> list[UserRequest]:
        return [r for r in inst.requests.values() if r.active and r.item_pid == item_pid]

    def _refresh_requested(self, inst: Institution, item_pid: str | None) -> None:
        if item_pid and item_pid in inst.items:
            inst.items[item_pid].data["requested"] = bool(self._queue(inst, item_pid))

    def _active_loan(self, inst: Institution, item_pid: str) -> Loan | None:
        for loan in inst.loans.values():
            if loan.item_pid == item_pid and loan.active:
                return loan
        return None

    def _close_request(
        self,
        request: UserRequest,
        reason: str | None,
        note: str | None,
        notify_user: bool | None,
        now: datetime,
    ) -> None:
        request.active = False
        request.request_status = "HISTORY"
        request.cancel_reason = reason
        request.cancel_note = note
        request.notify_user = notify_user
        request.cancelled_at = now

    def _set_process_type(self, item: Item, process_type: str) -> None:
        item.data["process_type"] = templates.code_desc(
            process_type, templates.PROCESS_TYPES.get(process_type, process_type)
        )
        status = "1" if process_type == "" else "0"
        item.data["base_status"] = templates.code_desc(status, templates.BASE_STATUS[status])
