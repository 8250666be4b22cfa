"""Malformed webhooks against `almabridge serve` as a subprocess (rules W2, W3, W4, W5).

One service takes the whole batch: bad JSON, wrong types, missing fields, unknown actions and
events, wrong institutions, huge and empty bodies, bad signatures, wrong methods. Each case must
be answered with a 4xx, or, once stored (signed bodies are stored before they are read, W3), end
as a `webhook.process` event marked skipped whose message names the problem. A valid publishing
`JOB_END` sent in the middle of the batch must still be carried out, and once the batch is
through, the service must still be alive and do a requests `JOB_END`.

The batch runs once per module (`batch` fixture); each case is then its own test.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.scf.signature import SIGNATURE_HEADER, sign
from domain.scf.webhooks import dedupe_key
from entrypoints.demo import webhooks
from entrypoints.demo.setup import AB, AB_PUBLISHING_JOB, AB_REQUESTS_JOB, SCF
from tests.e2e.harness import BridgeApi, alma_side, running_service
from tests.reliability import tally
from tests.reliability.support import table_rows

MIRRORED = ("AB0001", "AB0002", "AB 0003+4&5#6")
BODY_LIMIT = 1024 * 1024  # the service's default (ALMABRIDGE_WEBHOOK_MAX_BYTES)
_ids = itertools.count(1)


def _id() -> str:
    return f"7{next(_ids):09d}"


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()


def _envelope(action: Any, institution: Any = SCF, event: Any = None, **rest: Any) -> bytes:
    """An Alma-shaped body with a fresh id; `institution`/`event` as code-table objects when
    they are strings (pass anything else to test wrong types)."""
    body: dict[str, Any] = {"id": _id(), "action": action}
    if institution is not None:
        body["institution"] = (
            {"value": institution, "desc": "x"} if isinstance(institution, str) else institution
        )
    if event is not None:
        body["event"] = {"value": event, "desc": "x"} if isinstance(event, str) else event
    body.update(rest)
    return _json(body)


def _job(job_id: Any, *, institution: str = AB, status: Any = "COMPLETED_SUCCESS") -> bytes:
    info = {"id": job_id, "name": "A job"}
    status_value = {"value": status, "desc": "x"} if isinstance(status, str) else status
    job = {"id": "1234", "name": "A job", "job_info": info, "status": status_value}
    return _envelope("JOB_END", institution, None, job_instance=job)


Headers = Callable[[bytes, str], dict[str, str]]


def signed(raw: bytes, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, raw)}


def unsigned(raw: bytes, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json"}


def with_signature(value: str) -> Headers:
    return lambda raw, secret: {"Content-Type": "application/json", SIGNATURE_HEADER: value}


def wrong_secret(raw: bytes, secret: str) -> dict[str, str]:
    return signed(raw, secret + "-not-it")


def other_body(raw: bytes, secret: str) -> dict[str, str]:
    return signed(raw + b" ", secret)


def form_signed(raw: bytes, secret: str) -> dict[str, str]:
    return {**signed(raw, secret), "Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Case:
    """One malformed delivery and what must come of it."""

    name: str
    body: bytes
    headers: Headers = signed
    method: str = "POST"
    status: int = 200
    reason: str | None = None
    """For a stored body: words the skipped `webhook.process` event must say."""


GOOD_LOAN = {"item_barcode": "AB0001X", "user_id": "u", "loan_id": "1"}
CASES: list[Case] = [
    # Not JSON, or not an object (W3: stored, then rejected by the worker).
    Case("not JSON", b"{not json", reason="body is not JSON"),
    Case("truncated JSON", b'{"action": "JOB_END", "id": "1', reason="body is not JSON"),
    Case("JSON array", b"[1, 2, 3]", reason="not a JSON object"),
    Case("JSON string", b'"JOB_END"', reason="not a JSON object"),
    Case("JSON number", b"42", reason="not a JSON object"),
    Case("JSON null", b"null", reason="not a JSON object"),
    Case("invalid UTF-8", b'{"action": "\xff\xfe"}', reason="body is not JSON"),
    Case("raw NUL in a string", b'{"action": "LO\x00AN"}', reason="body is not JSON"),
    Case("absurdly deep nesting", b"[" * 50_000, reason="body is not JSON"),
    Case("form-encoded body", b"action=JOB_END&id=1", form_signed, reason="body is not JSON"),
    Case("XML body", b"<webhook><action>JOB_END</action></webhook>", reason="body is not JSON"),
    # Missing fields and wrong types.
    Case("empty object", b"{}", reason="no action"),
    Case("action null", _json({"id": _id(), "action": None}), reason="no action"),
    Case("action a number", _json({"id": _id(), "action": 5}), reason="action is not a string"),
    Case(
        "action a list", _json({"id": _id(), "action": ["LOAN"]}), reason="action is not a string"
    ),
    Case("id a number", _json({"id": 12345, "action": "LOAN"}), reason="id is not a string"),
    Case(
        "institution value a number",
        _envelope("LOAN", {"value": 5}, "LOAN_RETURNED", item_loan=GOOD_LOAN),
        reason="institution.value is not a string",
    ),
    Case(
        "institution not an object",
        _json({"id": _id(), "action": "LOAN", "institution": SCF}),
        reason="institution is not an object",
    ),
    Case(
        "event not an object",
        _json({"id": _id(), "action": "LOAN", "institution": {"value": SCF}, "event": "X"}),
        reason="event is not an object",
    ),
    Case(
        "event value a number",
        _envelope("LOAN", SCF, {"value": 7}),
        reason="event.value is not a string",
    ),
    Case("JOB_END without job_instance", _envelope("JOB_END", AB), reason="without job_instance"),
    Case(
        "JOB_END job_instance a list",
        _envelope("JOB_END", AB, job_instance=[1]),
        reason="job_instance is not an object",
    ),
    Case(
        "JOB_END without job_info.id",
        _envelope("JOB_END", AB, job_instance={"id": "1", "job_info": {}}),
        reason="job_instance.job_info.id",
    ),
    Case("JOB_END job id a number", _job(987654321), reason="job_info.id is not a string"),
    Case(
        "JOB_END status a list",
        _job(AB_PUBLISHING_JOB, status=["x"]),
        reason="job_instance.status is not an object",
    ),
    Case(
        "LOAN_RETURNED without item_loan",
        _envelope("LOAN", SCF, "LOAN_RETURNED"),
        reason="without item_loan.item_barcode",
    ),
    Case(
        "LOAN_RETURNED barcode a number",
        _envelope("LOAN", SCF, "LOAN_RETURNED", item_loan={"item_barcode": 42}),
        reason="item_barcode is not a string",
    ),
    Case(
        "LOAN_RETURNED of a barcode that is not a mirror",
        _envelope("LOAN", SCF, "LOAN_RETURNED", item_loan={"item_barcode": "AB0001"}),
        reason="is not an SCF mirror (N1)",
    ),
    Case(
        "REQUEST_CANCELED without user_request",
        _envelope("REQUEST", SCF, "REQUEST_CANCELED"),
        reason="without user_request",
    ),
    Case(
        "REQUEST_CANCELED of a barcode that is not a mirror",
        _envelope("REQUEST", SCF, "REQUEST_CANCELED", user_request={"barcode": "AB0002"}),
        reason="is not an SCF mirror (N1)",
    ),
    # Unknown actions and events (W5: recorded as skipped, never a crash).
    Case(
        "unknown action", _envelope("SOMETHING_NEW"), reason="action SOMETHING_NEW is not handled"
    ),
    Case("action in lower case", _envelope("job_end", AB), reason="action job_end is not handled"),
    Case("BIB action", _envelope("BIB", SCF, "BIB_UPDATED"), reason="action BIB is not handled"),
    Case(
        "LOAN event not handled",
        _envelope("LOAN", SCF, "LOAN_CREATED", item_loan=GOOD_LOAN),
        reason="LOAN event LOAN_CREATED is not handled",
    ),
    Case("LOAN without event", _envelope("LOAN", SCF), reason="LOAN event None is not handled"),
    Case(
        "REQUEST event not handled",
        _envelope("REQUEST", SCF, "REQUEST_PLACED_ON_SHELF"),
        reason="REQUEST event REQUEST_PLACED_ON_SHELF is not handled",
    ),
    # Wrong institutions (W4, W5).
    Case(
        "LOAN_RETURNED from a member",
        _envelope("LOAN", AB, "LOAN_RETURNED", item_loan=GOOD_LOAN),
        reason=f"from {AB}, not from the SCF",
    ),
    Case(
        "REQUEST_CANCELED from an unknown institution",
        _envelope("REQUEST", "01ZZZ_XX", "REQUEST_CANCELED", user_request={"barcode": "AB1X"}),
        reason="from 01ZZZ_XX, not from the SCF",
    ),
    Case(
        "LOAN_RETURNED without institution",
        _envelope("LOAN", None, "LOAN_RETURNED", item_loan=GOOD_LOAN),
        reason="from None, not from the SCF",
    ),
    Case("JOB_END of an unknown job", _job("S000000001"), reason="is not the publishing or"),
    Case(
        "JOB_END of a job two members share, from an outsider",
        _job(AB_PUBLISHING_JOB, institution="01ZZZ_XX"),
        reason="is ambiguous",
    ),
    Case(
        "JOB_END that failed in Alma",
        _job(AB_PUBLISHING_JOB, status="COMPLETED_FAILED"),
        reason="ended COMPLETED_FAILED: recorded, not synced",
    ),
    # Huge and empty bodies.
    Case("body over the limit", b"{" + b" " * BODY_LIMIT + b"}", status=413),
    Case(
        "big body under the limit, unknown action",
        _envelope("NOISE", SCF, padding="x" * (BODY_LIMIT // 2)),
        reason="action NOISE is not handled",
    ),
    Case("empty body, signed", b"", status=400),
    Case("empty body, unsigned", b"", unsigned, status=401),
    # Bad signatures (W2: 401 before anything is stored).
    Case("no signature", _job(AB_PUBLISHING_JOB), unsigned, status=401),
    Case("signed with another secret", _job(AB_PUBLISHING_JOB), wrong_secret, status=401),
    Case("signature of another body", _job(AB_PUBLISHING_JOB), other_body, status=401),
    Case("signature not base64", _job(AB_PUBLISHING_JOB), with_signature("!!!%%%"), status=401),
    Case("empty signature", _job(AB_PUBLISHING_JOB), with_signature(""), status=401),
    Case("hex signature", _job(AB_PUBLISHING_JOB), with_signature("ab" * 32), status=401),
    # Wrong methods on the webhook route.
    Case("PUT", _job(AB_PUBLISHING_JOB), method="PUT", status=405),
    Case("DELETE", b"", method="DELETE", status=405),
    Case("PATCH", _job(AB_PUBLISHING_JOB), method="PATCH", status=405),
]
DUPLICATE = CASES[0]  # sent a second time: answered alike, stored once (W3)


@dataclass
class Batch:
    """What the service answered and recorded."""

    statuses: dict[str, list[int]] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mirrored: dict[str, int] = field(default_factory=dict)
    forwarded: int = 0
    cancelled: int = 0
    alive: bool = False
    health: int = 0
    log: str = ""


async def _run_batch(root: Path) -> Batch:
    batch = Batch()
    async with alma_side(root) as side, running_service(side) as service:
        api = BridgeApi(side.client, service, side.secrets.webhook)
        secret = side.secrets.webhook
        side.demo.drop_publishing_archive()
        half = len(CASES) // 2
        async with httpx.AsyncClient(timeout=30.0) as client:
            for index, case in enumerate([*CASES, DUPLICATE]):
                if index == half:
                    # Valid work in the middle of the batch (a publishing JOB_END).
                    await api.send(webhooks.job_end(AB, AB_PUBLISHING_JOB, "Publishing"))
                answer = await client.request(
                    case.method,
                    f"{service.url}/webhook",
                    content=case.body,
                    headers=case.headers(case.body, secret),
                )
                batch.statuses.setdefault(case.name, []).append(answer.status_code)
                batch.answers[case.name] = answer.text
            stored = 1 + sum(1 for c in CASES if c.status == 200)
            await api.wait_processed(stored, seconds=60)

            # After the batch: still alive, and a requests JOB_END still works.
            side.demo.drop_request_file()
            await api.send(webhooks.job_end(AB, AB_REQUESTS_JOB, "Requests export"))
            await api.wait_processed(stored + 1, seconds=60)
            batch.health = (await client.get(f"{service.url}/health")).status_code
        assert service.process is not None
        batch.alive = service.process.returncode is None
        state = side.state
        for barcode in MIRRORED:
            batch.mirrored[barcode] = sum(
                1
                for item in state.institutions[SCF].items.values()
                if item.barcode == barcode + "X"
            )
        batch.forwarded = len(state.requests_of(SCF, active=True))
        batch.cancelled = len(state.requests_of(AB, active=False))
        batch.log = service.log_text(tail=200_000)
        batch.rows = await table_rows(side.paths.database_url)
    return batch


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """The whole batch against one service (a subprocess), run once for the module."""
    return asyncio.run(_run_batch(tmp_path_factory.mktemp("bad-webhooks")))


def _process_events(batch: Batch, raw: bytes) -> list[dict[str, Any]]:
    key = dedupe_key(raw)
    inbox = [m for m in batch.rows["inbox_messages"] if m["dedupe_key"] == key]
    assert len(inbox) == 1, f"stored {len(inbox)} times"
    return [
        e
        for e in batch.rows["events"]
        if e["action"] == "webhook.process" and e["inbox_id"] == inbox[0]["id"]
    ]


def test_the_batch_has_over_forty_distinct_malformed_deliveries() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert len({(c.method, c.body, c.headers) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_W2_W3_W5_each_malformed_webhook_is_refused_or_recorded_as_skipped(
    case: Case, batch: Batch
) -> None:
    """Rules W2 (401 before storing), W3 (store, answer, dedupe), W4/W5 (skipped, never a
    crash): a 4xx, or one `webhook.process` event, skipped, naming the problem."""
    expected = [case.status, case.status] if case is DUPLICATE else [case.status]
    assert batch.statuses[case.name] == expected, batch.answers[case.name]
    if case.status != 200:
        assert 400 <= case.status < 500
        if case.method == "POST":
            key = dedupe_key(case.body)
            assert not [m for m in batch.rows["inbox_messages"] if m["dedupe_key"] == key]
        return
    assert batch.answers[case.name] == "Got message"
    (event,) = _process_events(batch, case.body)
    assert event["outcome"] == "skipped", event
    assert case.reason is not None
    assert case.reason in (event["message"] or ""), event["message"]


def test_W3_W5_the_service_stayed_up_and_did_the_valid_work_of_the_batch(batch: Batch) -> None:
    """The publishing JOB_END sent mid-batch mirrored its items once each; after the batch, the
    requests JOB_END forwarded the hold and cancelled only the off-site request (R7)."""
    assert batch.alive, batch.log[-4000:]
    assert batch.health == 200
    assert batch.mirrored == dict.fromkeys(MIRRORED, 1)
    assert batch.forwarded == 1
    assert batch.cancelled == 1  # AB0004 lives on open shelves: a business cancellation
    inbox = batch.rows["inbox_messages"]
    assert all(m["status"] == "done" for m in inbox), inbox
    assert "Traceback" not in batch.log, batch.log[-4000:]
    process = [e for e in batch.rows["events"] if e["action"] == "webhook.process"]
    assert len(process) == len(inbox)  # one outcome each, no retry needed
    keys = [m["dedupe_key"] for m in inbox]
    assert len(keys) == len(set(keys))
    assert sum(1 for c in CASES if c.status != 200) >= 10
    tally.record(
        f"malformed webhooks ({len(CASES)} cases) to the service",
        faults_injected=len(CASES) + 1,
        messages_processed=len(process),
        records_processed=sum(batch.mirrored.values()) + batch.forwarded + batch.cancelled,
        effects_lost=sum(1 for n in batch.mirrored.values() if n == 0) + (1 - batch.forwarded),
        duplicates=sum(n - 1 for n in batch.mirrored.values() if n > 1)
        + len(keys)
        - len(set(keys)),
        transient_cancellations=batch.cancelled - 1,
    )
