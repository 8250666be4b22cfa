"""The sample consortium of the Java app's conf.json, and the Alma fixtures, for rule tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from domain.scf.institutions import Consortium, Institution, Library, RemoteStorage

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "alma"

SCF = "01AAA_RS"
AB = "01AAA_AB"
CD = "01AAA_CD"

REMOTE_STORAGE = RemoteStorage(
    institution=SCF,
    holding_library="RS",
    holding_location="rs_shared",
    circ_desk="DEFAULT_CIRC_DESK",
    digitization_department="DIGI_DEPT_INST",
)

AB_INSTITUTION = Institution(
    code=AB,
    libraries=(Library("ABRS", "DEFAULT_CIRC_DESK", frozenset({"rs_shared_in_ab"})),),
    default_library="ABRS",
    publishing_job_id="S987654321",
    requests_job_id="S123456789",
)
CD_INSTITUTION = Institution(
    code=CD,
    libraries=(
        Library(
            "CDRS", "DEFAULT_CIRC_DESK", frozenset({"rs_shared_1", "rs_shared_2", "rs_shared_3"})
        ),
        Library("CDTEMP", None, frozenset()),
    ),
    default_library="CDRS",
    publishing_job_id="S123456789",
    requests_job_id="S987654321",
)

CONSORTIUM = Consortium(
    remote_storage=REMOTE_STORAGE, institutions=(AB_INSTITUTION, CD_INSTITUTION)
)
"""conf.json of the Java app: AB's publishing job is CD's requests job and the other way round."""


def fixture_bytes(name: str) -> bytes:
    """A fixture file exactly as stored."""
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    """A fixture file, decoded."""
    return json.loads(fixture_bytes(name))


def member_item() -> dict[str, Any]:
    """A real Alma item record (Princeton's, via tulibraries/alma_rb)."""
    item: dict[str, Any] = fixture_json("tulibraries-alma_rb__item_from_barcode.json")
    return item


def rush_request(**changes: Any) -> Any:
    """The constructed request of research §7.2 (a physical hold picked up at CD), with changes."""
    from dataclasses import replace

    from domain.scf.requests.routing import PatronInfo, RemoteStorageRequest

    request = RemoteStorageRequest(
        request_id="1234567890000121",
        request_type="PATRON_PHYSICAL",
        barcode="31234000123456",
        mms_id="991234560000121",
        description="v.2",
        institution_code=CD,
        pickup_library_name="CD Main Library",
        patron=PatronInfo("Doe, Jane", "JD001", "jd@example.edu", "1 Main St"),
        request_note="Rush",
    )
    return replace(request, **changes)
