"""State → Alma JSON: the shapes of the real samples in ``shared/reference/alma-api/``.

Every function takes ``base``, the ``…/almaws/v1`` URL the client called, so ``link`` values
lead back to the fake (real Alma links point at ``api-na.hosted.exlibrisgroup.com``).
Where a real sample has ``null`` (a bib's own ``link``, a user's ``link``) the fake does too.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from adapters.fake_alma import marc, templates
from adapters.fake_alma.clock import alma_date, alma_due_timestamp, alma_timestamp
from adapters.fake_alma.model import (
    Bib,
    Course,
    Holding,
    Institution,
    Item,
    Library,
    Loan,
    Location,
    User,
    UserRequest,
)

LOC_CALL_NUMBER = templates.code_desc("0", "Library of Congress classification")


def _seg(value: str) -> str:
    return quote(value, safe="")


def listing(key: str, objects: Sequence[dict[str, Any]], total: int) -> dict[str, Any]:
    """Alma's list wrapper. An empty page omits the array key: ``{"total_record_count": 0}``
    (``ref:pulibrary-bibdata__not_found_items.json``)."""
    if not objects:
        return {"total_record_count": total}
    return {key: list(objects), "total_record_count": total}


def bib_link(base: str, mms_id: str) -> str:
    """``…/bibs/{mms}``."""
    return f"{base}/bibs/{_seg(mms_id)}"


def holding_link(base: str, mms_id: str, holding_id: str) -> str:
    """``…/bibs/{mms}/holdings/{hid}``."""
    return f"{bib_link(base, mms_id)}/holdings/{_seg(holding_id)}"


def item_link(base: str, item: Item) -> str:
    """The canonical item URL the item-by-barcode redirect leads to."""
    return f"{holding_link(base, item.mms_id, item.holding_id)}/items/{_seg(item.pid)}"


def _summary(bib: Bib) -> dict[str, str | None]:
    return marc.bib_summary(bib.record)


def bib_json(bib: Bib, base: str, *, requests: int = 0) -> dict[str, Any]:
    """A bib as in ``ref:pulibrary-bibdata__99122455086806421.json``; ``requests`` is the
    number of active requests on it (``requests.value``, an integer in the sample)."""
    summary = _summary(bib)
    linked = {"value": bib.nz_mms_id, "type": "NZ" if bib.nz_mms_id else None}
    return {
        "mms_id": bib.mms_id,
        "record_format": "marc21",
        "linked_record_id": linked,
        "title": summary["title"],
        "author": summary["author"],
        "issn": summary["issn"],
        "isbn": summary["isbn"],
        "complete_edition": summary["complete_edition"],
        "network_number": marc.system_numbers(bib.record),
        "place_of_publication": summary["place_of_publication"],
        "date_of_publication": summary["date_of_publication"],
        "publisher_const": summary["publisher_const"],
        "holdings": {"value": None, "link": f"{bib_link(base, bib.mms_id)}/holdings"},
        "created_by": bib.created_by,
        "created_date": alma_date(bib.created),
        "last_modified_by": bib.created_by,
        "last_modified_date": alma_date(bib.modified),
        "suppress_from_publishing": str(bib.suppress_from_publishing).lower(),
        "suppress_from_external_search": "false",
        "sync_with_oclc": "NONE",
        "sync_with_libraries_australia": "NONE",
        "originating_system": bib.originating_system,
        "originating_system_id": bib.originating_system_id,
        "cataloging_level": templates.code_desc("00", "Default Level"),
        "anies": marc.to_anies(bib.record),
        "requests": {"value": requests, "link": f"{bib_link(base, bib.mms_id)}/requests"},
        "link": None,
    }


def _item_bib_data(bib: Bib, base: str) -> dict[str, Any]:
    summary = _summary(bib)
    return {
        "mms_id": bib.mms_id,
        "title": summary["title"],
        "author": summary["author"],
        "issn": summary["issn"],
        "isbn": summary["isbn"],
        "complete_edition": summary["complete_edition"],
        "network_number": marc.system_numbers(bib.record),
        "place_of_publication": summary["place_of_publication"],
        "date_of_publication": summary["date_of_publication"],
        "publisher_const": summary["publisher_const"],
        "link": bib_link(base, bib.mms_id),
    }


def item_json(inst: Institution, item: Item, base: str) -> dict[str, Any]:
    """An item as in ``ref:tulibraries-alma_rb__item_from_barcode.json``."""
    holding = inst.holdings[item.holding_id]
    fields = copy.deepcopy(item.holding_fields)
    holding_data = {
        "holding_id": holding.holding_id,
        "call_number_type": copy.deepcopy(LOC_CALL_NUMBER),
        "call_number": holding.call_number,
        "accession_number": fields.pop("accession_number"),
        "copy_id": fields.pop("copy_id"),
        **fields,
        "link": holding_link(base, item.mms_id, item.holding_id),
    }
    return {
        "bib_data": _item_bib_data(inst.bibs[item.mms_id], base),
        "holding_data": holding_data,
        "item_data": copy.deepcopy(item.data),
        "link": item_link(base, item),
    }


def scan_json(inst: Institution, item: Item, additional_info: str, base: str) -> dict[str, Any]:
    """A scan-in answer: the item plus ``additional_info`` (``ref:…scan_23258767460006421``)."""
    body = item_json(inst, item, base)
    link = body.pop("link")
    body["additional_info"] = additional_info
    body["link"] = link
    return body


def holding_json(holding: Holding) -> dict[str, Any]:
    """A holding record with its MARC in ``anies`` (both holding samples' keys)."""
    return {
        "holding_id": holding.holding_id,
        "created_by": holding.created_by,
        "created_date": alma_date(holding.created),
        "last_modified_by": holding.created_by,
        "last_modified_date": alma_date(holding.modified),
        "originating_system": "ILS",
        "originating_system_id": holding.holding_id,
        "suppress_from_publishing": str(holding.suppress_from_publishing).lower(),
        "calculated_suppress_from_publishing": str(holding.suppress_from_publishing).lower(),
        "anies": marc.to_anies(holding.record),
    }


def holdings_list_json(
    inst: Institution, bib: Bib, holdings: Sequence[Holding], base: str
) -> dict[str, Any]:
    """``GET /bibs/{mms}/holdings``: brief holdings plus ``bib_data`` (the XML sample's
    elements mapped mechanically to JSON, as Alma's JSON always is)."""
    summary = _summary(bib)
    brief = []
    for holding in holdings:
        library = inst.libraries.get(holding.library)
        location = library.locations.get(holding.location) if library else None
        brief.append(
            {
                "link": holding_link(base, bib.mms_id, holding.holding_id),
                "holding_id": holding.holding_id,
                "library": templates.code_desc(holding.library, library.name if library else None),
                "location": templates.code_desc(
                    holding.location, location.name if location else None
                ),
                "call_number": holding.call_number,
                "suppress_from_publishing": str(holding.suppress_from_publishing).lower(),
            }
        )
    bib_data = {
        "link": bib_link(base, bib.mms_id),
        "mms_id": bib.mms_id,
        "title": summary["title"],
        "author": summary["author"],
        "issn": summary["issn"],
        "isbn": summary["isbn"],
        "network_number": marc.system_numbers(bib.record),
        "place_of_publication": summary["place_of_publication"],
        "date_of_publication": summary["date_of_publication"],
        "publisher": summary["publisher_const"],
    }
    body: dict[str, Any] = {}
    if brief:
        body["holding"] = brief
    body["bib_data"] = bib_data
    body["total_record_count"] = len(brief)
    return body


def request_json(inst: Institution, request: UserRequest) -> dict[str, Any]:
    """A user request as in ``ref:tulibraries-alma_rb__request_success.json``; item-level
    requests add ``item_id`` and ``barcode`` and every request has ``comment`` (as in the
    REQUEST webhook sample)."""
    fields = request.fields
    bib = inst.bibs.get(request.mms_id)
    summary = _summary(bib) if bib else {}
    item = inst.items.get(request.item_pid or "")
    holding = inst.holdings.get(request.holding_id or "")
    library_code = holding.library if holding else ""
    library = inst.libraries.get(library_code)
    desk_code = next(iter(library.circ_desks), "") if library else ""
    pickup_code = str(fields.get("pickup_location_library") or "")
    pickup_library = inst.libraries.get(pickup_code)
    queue = [
        r
        for r in inst.requests.values()
        if r.active and r.item_pid and r.item_pid == request.item_pid
    ]
    place = queue.index(request) + 1 if request in queue else 0
    body: dict[str, Any] = {
        "title": summary.get("title") or "",
        "author": summary.get("author") or "",
        "description": str(fields.get("description") or (item.data["description"] if item else "")),
        "volume": str(fields.get("volume") or ""),
        "issue": str(fields.get("issue") or ""),
        "part": str(fields.get("part") or ""),
        "user_primary_id": request.user_primary_id,
        "request_id": request.request_id,
        "additional_id": str(fields.get("additional_id") or ""),
        "request_type": request.request_type,
        "request_sub_type": dict(request.sub_type),
        "mms_id": request.mms_id,
        "holding_id": request.holding_id or "",
    }
    if item is not None:
        body["item_id"] = item.pid
        body["barcode"] = item.barcode
    body.update(
        {
            "pickup_location": pickup_library.name if pickup_library else "",
            "pickup_location_type": str(fields.get("pickup_location_type") or "LIBRARY"),
            "pickup_location_library": pickup_code,
        }
    )
    if fields.get("pickup_location_circulation_desk"):
        body["pickup_location_circulation_desk"] = str(fields["pickup_location_circulation_desk"])
    body.update(
        {
            "managed_by_library": library.name if library else "",
            "managed_by_circulation_desk": library.circ_desks.get(desk_code, "") if library else "",
            "managed_by_library_code": library_code,
            "managed_by_circulation_desk_code": desk_code,
            "material_type": dict(item.data["physical_material_type"]) if item else {},
            "date_of_publication": str(
                fields.get("date_of_publication") or summary.get("date_of_publication") or ""
            ),
            "comment": fields.get("comment"),
            "request_status": request.request_status,
            "place_in_queue": place,
            "request_date": alma_date(request.created),
            "request_time": alma_timestamp(request.created),
            "task_name": request.task_name,
            "expiry_date": alma_date(request.expiry),
        }
    )
    for key in (
        "manual_description",
        "target_destination",
        "partial_digitization",
        "full_chapter",
        "chapter_or_article_title",
        "chapter_or_article_author",
        "required_pages_range",
        "copyrights_declaration_signed_by_patron",
        "last_interest_date",
    ):
        if key in fields:
            body[key] = copy.deepcopy(fields[key])
    return body


def loan_json(inst: Institution, loan: Loan) -> dict[str, Any]:
    """A loan as in ``ref:mlibrary-alma_rest_client__jbister_loans0.json``."""
    item = inst.items.get(loan.item_pid)
    bib = inst.bibs.get(loan.mms_id)
    summary = _summary(bib) if bib else {}
    holding = inst.holdings.get(loan.holding_id)
    library = inst.libraries.get(loan.library)
    location_code = item.data["location"] if item else templates.code_desc("", None)
    policy = item.data["policy"] if item else templates.code_desc(None, None)
    body: dict[str, Any] = {
        "loan_id": loan.loan_id,
        "circ_desk": templates.code_desc(
            loan.circ_desk, library.circ_desks.get(loan.circ_desk) if library else None
        ),
        "library": templates.code_desc(loan.library, library.name if library else None),
        "user_id": loan.user_id,
        "item_barcode": loan.item_barcode,
        "due_date": alma_due_timestamp(loan.due_date),
        "loan_status": loan.status,
        "loan_date": alma_timestamp(loan.loan_date),
        "process_status": "RENEW" if loan.last_renew_status else "NORMAL",
        "mms_id": loan.mms_id,
        "holding_id": loan.holding_id,
        "item_id": loan.item_pid,
        "title": summary.get("title") or "",
        "author": summary.get("author") or "",
        "description": item.data["description"] if item else None,
        "publication_year": summary.get("date_of_publication") or "",
        "location_code": {"value": location_code["value"], "name": location_code["desc"]},
        "item_policy": {"value": policy["value"], "description": policy["desc"]},
        "call_number": holding.call_number if holding else "",
        "renewable": loan.active,
        "last_renew_status": (
            templates.code_desc("SUCCESS", "Renewed Successfully")
            if loan.last_renew_status
            else {"value": None, "desc": ""}
        ),
        "loan_fine": 0.0,
    }
    if loan.returned_at is not None:
        body["return_date"] = alma_timestamp(loan.returned_at)
        returned_at = inst.libraries.get(loan.return_library or "")
        body["return_circ_desk"] = templates.code_desc(
            loan.return_circ_desk,
            returned_at.circ_desks.get(loan.return_circ_desk or "") if returned_at else None,
        )
    return body


def user_json(user: User) -> dict[str, Any]:
    """A user as in ``ref:pulibrary-bibdata__bbird.json`` (plus the linked-account fields
    ``linking_id`` / ``source_institution_code`` / ``source_link_id`` when set)."""
    return copy.deepcopy(user.data)


def library_json(library: Library, base: str) -> dict[str, Any]:
    """A library as in ``ref:pulibrary-bibdata__libraries.json``."""
    default = library.locations.get(library.default_location or "")
    return {
        "code": library.code,
        "id": library.id,
        "name": library.name,
        "path": library.path,
        "description": library.description,
        "resource_sharing": library.resource_sharing,
        "campus": templates.code_desc(library.campus, None),
        "proxy": "",
        "default_location": templates.code_desc(
            library.default_location or "",
            f"{default.code}: {library.name}" if default else None,
        ),
        "link": f"{base}/conf/libraries/{_seg(library.code)}",
    }


def location_json(library: Library, location: Location, base: str) -> dict[str, Any]:
    """A location as in ``ref:tulibraries-alma_rb__location.json``."""
    return {
        "code": location.code,
        "name": location.name,
        "external_name": location.external_name,
        "type": templates.code_desc(location.type, location.type_desc),
        "remote_storage": location.remote_storage,
        "map": "",
        "suppress_from_publishing": "false",
        "fulfillment_unit": templates.code_desc(
            location.fulfillment_unit, location.fulfillment_unit
        ),
        "accession_placement": templates.code_desc("none", "None"),
        "call_number_type": templates.code_desc(
            location.call_number_type, location.call_number_type_desc
        ),
        "link": (f"{base}/conf/libraries/{_seg(library.code)}/locations/{_seg(location.code)}"),
    }


def course_json(
    course: Course, base: str, *, reading_lists: Sequence[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A course as in ``ref:tulibraries-alma_rb__courses.json``; with ``reading_lists`` (the
    ``view=full`` answer) it also carries ``reading_lists.reading_list[]``, each with its link."""
    body = copy.deepcopy(course.data)
    link = f"{base}/courses/{_seg(course.course_id)}"
    if reading_lists is not None:
        body["reading_lists"] = {
            "reading_list": [
                {**copy.deepcopy(r), "link": f"{link}/reading-lists/{_seg(str(r['id']))}"}
                for r in reading_lists
            ]
        }
    body["link"] = link
    return body
