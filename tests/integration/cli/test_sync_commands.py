"""`sync-items` and `send-requests` as an operator runs them: summaries, exit codes, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli.support import AB, SCF, Bridge, bridge_at


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with bridge_at(tmp_path) as running:
        yield running


def test_I1_a_dry_run_plans_without_claiming_or_writing(bridge: Bridge) -> None:
    archive = bridge.publish("AB_new_1")
    code, output = bridge.run("sync-items", AB, "--dry-run")
    assert code == 0, output
    assert "Items sync 01AAA_AB (dry run)" in output
    assert "Plan (dry run)" in output
    assert "AB0001" in output
    assert archive.exists()  # nothing claimed
    code, output = bridge.run_ledger("events", "--action", "item.create")
    assert "no events" in output


def test_I7_sync_items_mirrors_and_prints_the_counts(bridge: Bridge) -> None:
    bridge.publish("AB_new_1")
    code, output = bridge.run("sync-items", "01aaa_ab")  # any case
    assert code == 0, output
    assert "│ created   │ 2     │" in output
    assert "AB_new_1.tar.gz" in output
    assert "items sync 01AAA_AB: started" in output  # not a terminal: plain progress lines
    assert bridge.state.find_item(SCF, "AB0001X") is not None
    code, output = bridge.run_ledger("item", AB, "AB0001", "--json")
    assert code == 0, output
    history = json.loads(output)
    assert history["item"]["state"] == "mirrored"
    assert [event["action"] for event in history["events"]] == ["item.create"]


def test_R4_send_requests_forwards_a_request_once_its_mirror_exists(bridge: Bridge) -> None:
    bridge.publish("AB_new_1")
    assert bridge.run("sync-items", AB)[0] == 0
    request_id = bridge.request_file("requests_1.xml")
    code, output = bridge.run("send-requests", AB)
    assert code == 0, output
    assert "Requests sync 01AAA_AB" in output
    assert "│ forwarded │ 1" in output
    assert request_id in output
    code, output = bridge.run_ledger("request", AB, request_id)
    assert code == 0, output
    assert "forwarded" in output


def test_a_missing_folder_fails_the_run_naming_it(bridge: Bridge) -> None:
    code, output = bridge.run("send-requests", AB)
    assert code == 1
    assert "01AAA_AB/requests: no such file or folder" in output


def test_a_broken_archive_fails_the_run_with_exit_code_1(bridge: Bridge) -> None:
    (bridge.folder(AB, "items") / "AB_broken.tar.gz").write_bytes(b"not a tar at all")
    code, output = bridge.run("sync-items", AB)
    assert code == 1, output
    assert "AB_broken.tar.gz" in output
    assert "failed" in output


def test_the_SCF_or_a_stranger_is_refused_with_exit_code_2(bridge: Bridge) -> None:
    code, output = bridge.run("sync-items", SCF)
    assert code == 2
    assert "01AAA_RS is not a member institution (members: 01AAA_AB, 01AAA_CD)" in output
    code, output = bridge.run("send-requests", "01AAA_ZZ")
    assert code == 2
    assert "01AAA_ZZ is not a member institution" in output


def test_an_unmigrated_ledger_is_refused_naming_db_upgrade(tmp_path: Path) -> None:
    with bridge_at(tmp_path, migrate=False) as bridge:
        code, output = bridge.run("sync-items", AB)
    assert code == 2
    assert "almabridge db upgrade" in output


def test_a_broken_configuration_is_refused_without_its_secrets(bridge: Bridge) -> None:
    bridge.write_conf(gateway="not a url", remote_storage_apikey="sekrit-scf-key-123")
    code, output = bridge.run("send-requests", AB)
    assert code == 2
    assert "gateway" in output
    assert "sekrit-scf-key-123" not in output


def test_a_sync_with_no_webhook_secret_still_runs(bridge: Bridge) -> None:
    # Rule W2 guards the webhook; an operator's run accepts none, so it is not refused.
    bridge.write_conf(webhook_secret="")
    bridge.folder(AB, "requests")
    code, output = bridge.run("send-requests", AB)
    assert code == 0, output
    assert "files: 0 read" in output
