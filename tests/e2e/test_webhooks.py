"""Every kind of webhook through `almabridge serve` as a subprocess, signed as Alma signs them.

Alma's side (the fake Alma and the SFTP server) runs in the test process; the bridge is a real
`serve` process on its own port, SQLite ledger and conf.json. What the bridge did is read from
the fake Alma's state, its call log, and the bridge's audit API and `/health`.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

from adapters.fake_alma.state import FakeAlmaState
from domain.scf.signature import SIGNATURE_HEADER, sign
from entrypoints.demo import webhooks
from entrypoints.demo.setup import AB, AB_PUBLISHING_JOB, AB_REQUESTS_JOB, SCF
from tests.e2e.harness import BridgeApi, alma_side, running_service

MIRRORED = ("AB0001", "AB0002", "AB 0003+4&5#6")
"""The demo archive's items in remote storage; its AB0004 is on open shelves (I6: left alone)."""
SYSTEM_USER = f"{AB}-ABRS"
_ids = itertools.count(1)


def _scf_items(state: FakeAlmaState, barcode: str) -> list[Any]:
    return [item for item in state.institutions[SCF].items.values() if item.barcode == barcode]


def _active_loans(state: FakeAlmaState, item_pid: str) -> list[Any]:
    loans = state.institutions[SCF].loans.values()
    return [loan for loan in loans if loan.item_pid == item_pid and loan.active]


def _publishing_job_end() -> dict[str, Any]:
    return webhooks.job_end(AB, AB_PUBLISHING_JOB, "Publishing Platform Job RS")


def _failed_job_end() -> dict[str, Any]:
    body = _publishing_job_end()
    body["job_instance"]["status"] = {"value": "COMPLETED_FAILED", "desc": "Completed Failed"}
    return body


def _unknown_action() -> dict[str, Any]:
    return {
        "id": f"99{next(_ids):08d}",
        "action": "SOMETHING_NEW",
        "institution": {"value": SCF, "desc": SCF},
        "time": "2025-01-31T10:10:10.000Z",
        "event": {"value": "SOMETHING_HAPPENED", "desc": "Something happened"},
    }


async def test_every_webhook_kind_is_carried_out_by_the_service(tmp_path: Path) -> None:
    async with alma_side(tmp_path) as side, running_service(side) as service:
        api = BridgeApi(side.client, service, side.secrets.webhook)
        state = side.state

        # A publishing JOB_END: the archive's remote-storage items are mirrored, each lent.
        side.demo.drop_publishing_archive()
        await api.send(_publishing_job_end())
        await api.wait_processed(1)
        for barcode in MIRRORED:
            (mirror,) = _scf_items(state, f"{barcode}X")
            (loan,) = _active_loans(state, mirror.pid)
            assert loan.user_id == SYSTEM_USER
            history = await api.item_history(AB, barcode)
            assert history["item"]["state"] == "mirrored"
            assert history["item"]["scf_item_pid"] == mirror.pid
        assert _scf_items(state, "AB0004X") == []

        # A requests JOB_END: the seeded hold on AB0001 is placed in the SCF on AB0001X.
        side.demo.drop_request_file()
        await api.send(webhooks.job_end(AB, AB_REQUESTS_JOB, "Remote storage requests export"))
        await api.wait_processed(2)
        source = state.requests_of(AB, user_id="ab_patron1")[0].request_id
        forwarded = (await api.admin(f"/ledger/requests/{AB}/{source}"))["request"]
        assert forwarded["status"] == "forwarded"
        scf_request = state.request(SCF, forwarded["scf_request_id"])
        assert scf_request.active
        assert scf_request.item_pid == _scf_items(state, "AB0001X")[0].pid

        # LOAN_RETURNED from the SCF desk: the member item AB0002 is scanned in at AB.
        member = state.item_by_barcode(AB, "AB0002")
        loan = await side.desk.return_loan("AB0002X", SYSTEM_USER)
        await api.send(webhooks.loan_returned(SCF, "AB0002X", loan.user_id, loan.loan_id))
        await api.wait_processed(3)
        scans = [
            call
            for call in state.call_log.records(institution=AB, method="POST")
            if call.path.endswith(f"/items/{member.pid}") and call.param("op") == "scan"
        ]
        assert [call.status for call in scans] == [200]
        (scan_in,) = await api.events(action="circulation.scan_in")
        assert (scan_in["outcome"], scan_in["barcode"]) == ("ok", "AB0002")

        # REQUEST_CANCELED from the SCF desk: the member's source request is cancelled.
        comment = await side.desk.cancel_request(
            forwarded["scf_mms_id"], forwarded["scf_request_id"]
        )
        await api.send(
            webhooks.request_canceled(
                SCF, forwarded["scf_request_id"], "AB0001X", SYSTEM_USER, comment
            )
        )
        await api.wait_processed(4)
        assert not state.request(AB, source).active
        (cancel,) = await api.events(action="circulation.cancel_source")
        assert (cancel["outcome"], cancel["request_id"]) == ("ok", source)

        # A failed job and an action the bridge does not handle: recorded as skipped, no call.
        calls_before = len(state.call_log)
        await api.send(_failed_job_end())
        await api.send(_unknown_action())
        done = await api.wait_processed(6)
        assert len(state.call_log) == calls_before
        skipped = [event for event in done if event["outcome"] == "skipped"]
        assert len(skipped) == 2
        # Two worker claims may finish in either order: match each reason, not positions.
        messages = sorted(event["message"] for event in skipped)
        assert "SOMETHING_NEW" in messages[0]
        assert "COMPLETED_FAILED" in messages[1]
        assert Counter(event["outcome"] for event in done) == {"ok": 4, "skipped": 2}
        assert await api.events(outcome="failed") == []
        assert (await api.inbox())["dead"] == 0


async def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    async with alma_side(tmp_path) as side, running_service(side) as service:
        api = BridgeApi(side.client, service, side.secrets.webhook)
        raw = json.dumps(_publishing_job_end()).encode()
        forged = {"Content-Type": "application/json", SIGNATURE_HEADER: sign("not-it", raw)}
        unsigned = {"Content-Type": "application/json"}
        tampered = {**api.signed(raw)}
        for headers, body in ((forged, raw), (unsigned, raw), (tampered, raw + b" ")):
            answer = await api.post_webhook(body, headers)
            assert answer.status_code == 401, answer.text

        # The inbox insert is the only work before the answer: nothing can still be on its way.
        assert await api.inbox() == {"pending": 0, "processing": 0, "done": 0, "dead": 0}
        assert await api.events() == []
        assert await api.metric("almabridge_webhooks_rejected_total", reason="signature") == 3
        assert await api.metric("almabridge_webhooks_received_total") == 0
        assert await api.metric("almabridge_inbox_messages", status="pending") == 0
        assert len(side.state.call_log) == 0


async def test_the_same_webhook_twice_has_one_effect(tmp_path: Path) -> None:
    async with alma_side(tmp_path) as side, running_service(side) as service:
        api = BridgeApi(side.client, service, side.secrets.webhook)
        side.demo.drop_publishing_archive()
        body = _publishing_job_end()
        await api.send(body)
        await api.send(body)  # redelivered while the first is queued or in work
        await api.wait_processed(1)
        await api.send(body)  # and once more after it was carried out
        assert await api.inbox() == {"pending": 0, "processing": 0, "done": 1, "dead": 0}

        assert await api.metric("almabridge_webhooks_received_total") == 1
        assert await api.metric("almabridge_webhooks_duplicate_total") == 2
        assert len(await api.processed()) == 1
        for barcode in MIRRORED:
            (mirror,) = _scf_items(side.state, f"{barcode}X")
            assert len(_active_loans(side.state, mirror.pid)) == 1
            history = await api.item_history(AB, barcode)
            assert [event["action"] for event in history["events"]] == ["item.create"]
