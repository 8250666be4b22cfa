"""Blank Alma objects with every key of the real samples, and code-table descriptions.

Alma always returns the full key set (empty strings, ``{"value": "", "desc": null}``), so the
fake starts every record from these templates and only fills in what it knows.
"""

from __future__ import annotations

import copy
from typing import Any

MATERIAL_TYPES = {
    "BOOK": "Book",
    "ISSUE": "Issue",
    "BOUND_ISSUE": "Bound Issue",
    "DVD": "DVD",
    "CD": "CD-ROM",
    "MAP": "Map",
    "SCORE": "Score",
    "OTHER": "Other",
}
PROCESS_TYPES = {
    "": None,
    "LOAN": "Loan",
    "TRANSIT": "Transit",
    "HOLDSHELF": "Hold Shelf",
    "ACQ": "Acquisition",
    "WORK_ORDER_DEPARTMENT": "In Process",
    "MISSING": "Missing",
    "TECHNICAL": "Technical - Migration",
    "LOST_LOAN": "Lost",
}
BASE_STATUS = {"1": "Item in place", "0": "Item not in place"}
REQUEST_SUB_TYPES = {
    "PATRON_PHYSICAL": "Patron physical item request",
    "PHYSICAL_TO_DIGITIZATION": "Patron digitization request",
    "STAFF_PHYSICAL_DIGITIZATION": "Staff digitization request",
    "RESOURCE_SHARING_P2D_SHIPMENT": "Resource sharing Ship digitally request",
}
REQUEST_TYPES = {"HOLD", "DIGITIZATION", "BOOKING", "MOVE", "WORK_ORDER"}
DEFAULT_SUB_TYPE = {"HOLD": "PATRON_PHYSICAL", "DIGITIZATION": "PHYSICAL_TO_DIGITIZATION"}

_ITEM_DATA: dict[str, Any] = {
    "pid": "",
    "barcode": "",
    "creation_date": "",
    "modification_date": "",
    "base_status": {"value": "1", "desc": "Item in place"},
    "awaiting_reshelving": False,
    "physical_material_type": {"value": "BOOK", "desc": "Book"},
    "policy": {"value": "", "desc": None},
    "provenance": {"value": "", "desc": None},
    "po_line": "",
    "is_magnetic": False,
    "arrival_date": "",
    "year_of_issue": "",
    "enumeration_a": "",
    "enumeration_b": "",
    "enumeration_c": "",
    "enumeration_d": "",
    "enumeration_e": "",
    "enumeration_f": "",
    "enumeration_g": "",
    "enumeration_h": "",
    "chronology_i": "",
    "chronology_j": "",
    "chronology_k": "",
    "chronology_l": "",
    "chronology_m": "",
    "description": "",
    "receiving_operator": "import",
    "process_type": {"value": "", "desc": None},
    "inventory_number": "",
    "inventory_price": "",
    "library": {"value": "", "desc": None},
    "location": {"value": "", "desc": None},
    "alternative_call_number": "",
    "alternative_call_number_type": {"value": "", "desc": None},
    "storage_location_id": "",
    "pages": "",
    "pieces": "1",
    "public_note": "",
    "fulfillment_note": "",
    "internal_note_1": "",
    "internal_note_2": "",
    "internal_note_3": "",
    "statistics_note_1": "",
    "statistics_note_2": "",
    "statistics_note_3": "",
    "requested": False,
    "edition": None,
    "imprint": None,
    "language": None,
    "physical_condition": {"value": None, "desc": None},
}
ITEM_COMPUTED_KEYS = frozenset(
    {
        "pid",
        "creation_date",
        "modification_date",
        "base_status",
        "process_type",
        "requested",
        "library",
        "location",
    }
)
"""item_data keys Alma computes (ids, dates, status, the holding's library and location):
clients may send them back but the fake ignores what they say."""

_ITEM_HOLDING_FIELDS: dict[str, Any] = {
    "accession_number": "",
    "copy_id": "0",
    "in_temp_location": False,
    "temp_library": {"value": None, "desc": None},
    "temp_location": {"value": None, "desc": None},
    "temp_call_number_type": {"value": "", "desc": None},
    "temp_call_number": "",
    "temp_policy": {"value": "", "desc": None},
}

_USER: dict[str, Any] = {
    "record_type": {"value": "PUBLIC", "desc": "Public"},
    "primary_id": "",
    "first_name": "",
    "middle_name": "",
    "last_name": "",
    "full_name": "",
    "user_title": {"value": "", "desc": None},
    "job_category": {"value": "", "desc": ""},
    "job_description": "",
    "gender": {"value": "", "desc": ""},
    "user_group": {"value": "PATRON", "desc": "Patron"},
    "campus_code": {"value": None, "desc": ""},
    "web_site_url": "",
    "cataloger_level": {"value": "00", "desc": "[00] Default Level"},
    "preferred_language": {"value": "en", "desc": "English"},
    "expiry_date": "2030-12-31Z",
    "purge_date": "2031-12-31Z",
    "account_type": {"value": "INTERNAL", "desc": "Internal"},
    "external_id": "",
    "password": "",
    "force_password_change": "",
    "status": {"value": "ACTIVE", "desc": "Active"},
    "status_date": "2025-01-01Z",
    "contact_info": {"address": [], "email": [], "phone": []},
    "pref_first_name": "",
    "pref_middle_name": "",
    "pref_last_name": "",
    "pref_name_suffix": "",
    "is_researcher": False,
    "researcher": None,
    "link": None,
    "user_identifier": [],
    "user_role": [],
    "user_block": [],
    "user_note": [],
    "user_statistic": [],
    "proxy_for_user": [],
}

_COURSE: dict[str, Any] = {
    "id": "",
    "code": "",
    "name": "",
    "section": "",
    "academic_department": {"value": "", "desc": None},
    "processing_department": {"value": "COURSE_UNIT", "desc": "Course Unit"},
    "status": "ACTIVE",
    "start_date": "2025-01-06Z",
    "end_date": "2025-06-30Z",
    "weekly_hours": 0,
    "participants": 0,
    "year": "",
    "instructor": [],
    "campus": [],
    "note": [],
    "created_by": "System",
    "created_date": "2025-01-06Z",
    "last_modified_by": "System",
    "last_modified_date": "2025-01-06Z",
    "rolled_from": "",
}


def blank_item_data() -> dict[str, Any]:
    """A fresh ``item_data`` with every key Alma returns."""
    return copy.deepcopy(_ITEM_DATA)


def blank_item_holding_fields() -> dict[str, Any]:
    """Fresh per-item ``holding_data`` fields (temporary location, copy id…)."""
    return copy.deepcopy(_ITEM_HOLDING_FIELDS)


def blank_user() -> dict[str, Any]:
    """A fresh user object with every key of the real user sample."""
    return copy.deepcopy(_USER)


def blank_course() -> dict[str, Any]:
    """A fresh course object with every key of the real course sample."""
    return copy.deepcopy(_COURSE)


def code_desc(value: Any, desc: str | None) -> dict[str, Any]:
    """Alma's ``{"value": …, "desc": …}`` pair."""
    return {"value": value, "desc": desc}
