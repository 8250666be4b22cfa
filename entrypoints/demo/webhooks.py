"""Alma's webhooks as the demo sends them: Alma's JSON shapes, signed as Alma signs (rule W2).

Each body carries a fresh `id` (Alma's dedupe key, rule W3), the sending institution and the
event's payload; only the fields the bridge reads are filled in beyond the envelope.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from domain.scf.signature import SIGNATURE_HEADER, sign

_ids = itertools.count(1)


def _envelope(action: str, institution: str, event: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        # Alma's ids are long digit strings; a run-unique prefix keeps demo ids distinct.
        "id": f"{int(datetime.now(UTC).timestamp() * 1000)}{next(_ids):04d}",
        "action": action,
        "institution": {"value": institution, "desc": institution},
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    if event is not None:
        body["event"] = {"value": event, "desc": event.replace("_", " ").capitalize()}
    return body


def job_end(institution: str, job_id: str, job_name: str) -> dict[str, Any]:
    """A member's job finished successfully (rule W4)."""
    body = _envelope("JOB_END", institution, None)
    body["job_instance"] = {
        "id": f"{next(_ids)}0000000000",
        "name": job_name,
        "job_info": {"id": job_id, "name": job_name},
        "status": {"value": "COMPLETED_SUCCESS", "desc": "Completed Successfully"},
    }
    return body


def loan_returned(scf: str, scf_barcode: str, user_id: str, loan_id: str | None) -> dict[str, Any]:
    """The SCF returned a loan of one of the bridge's mirrors (rules W5, C1)."""
    body = _envelope("LOAN", scf, "LOAN_RETURNED")
    body["item_loan"] = {
        "item_barcode": scf_barcode,
        "user_id": user_id,
        "loan_id": loan_id,
        "loan_status": "COMPLETE",
    }
    return body


def request_canceled(
    scf: str, request_id: str, scf_barcode: str, user_id: str, comment: str | None
) -> dict[str, Any]:
    """The SCF cancelled a request the bridge had forwarded (rules W5, C2)."""
    body = _envelope("REQUEST", scf, "REQUEST_CANCELED")
    body["user_request"] = {
        "request_id": request_id,
        "barcode": scf_barcode,
        "user_primary_id": user_id,
        "comment": comment,
        "request_status": "HISTORY",
    }
    return body


async def send(client: httpx.AsyncClient, url: str, secret: str, body: dict[str, Any]) -> None:
    """POST the body to the bridge's webhook signed with `secret`; raises unless 200."""
    raw = json.dumps(body).encode()
    answer = await client.post(
        url,
        content=raw,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, raw)},
    )
    if answer.status_code != 200:
        raise RuntimeError(
            f"the bridge answered {answer.status_code} to a {body['action']} webhook: "
            f"{answer.text[:200]}"
        )
