"""`almabridge reconcile` as an operator runs it: help, refusals, plan, fix, JSON, CSV, exit
codes (issue 7)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from entrypoints.cli import app
from entrypoints.demo.alma_files import PublishedItem, PublishedRecord, publishing_archive
from tests.integration.cli.support import AB, SCF, Bridge, bridge_at, runner


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with bridge_at(tmp_path) as running:
        running.publish("AB_new_1")
        code, output = running.run("sync-items", AB)
        assert code == 0, output
        yield running


def _invoke(bridge: Bridge, *args: str) -> Result:
    """The command with stdout and stderr apart (progress lines go to stderr)."""
    return runner.invoke(
        app,
        [
            "reconcile",
            AB,
            *args,
            "--config",
            str(bridge.conf_path),
            "--database-url",
            bridge.database_url,
        ],
        env={"COLUMNS": "200"},
    )


def _drift(bridge: Bridge) -> None:
    mirror = bridge.state.find_item(SCF, "AB0001X")
    assert mirror is not None
    mirror.data["description"] = "edited by hand in the SCF"


def _full_file(bridge: Bridge, name: str = "AB_full") -> Path:
    items = tuple(
        PublishedItem(barcode, "ABRS", "rs_shared_in_ab") for barcode in ("AB0001", "AB0002")
    )
    member = bridge.state.item_by_barcode(AB, "AB0001")
    nz = bridge.state.bib(AB, member.mms_id).nz_mms_id
    path = bridge.root / f"{name}.tar.gz"
    path.write_bytes(
        publishing_archive(name, [PublishedRecord(member.mms_id, "A title", items, nz)])
    )
    return path


def test_help_explains_expected_and_actual_with_an_example() -> None:
    result = runner.invoke(app, ["reconcile", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    text = result.output
    assert "Expected: the member's items in remote storage" in text
    assert "Actual: what Alma answers now" in text
    assert "almabridge reconcile 01AAA_AB --from-publish AB_full.tar.gz --fix" in text
    assert "Exit codes: 0 nothing found" in text
    for option in ("--from-publish", "--from-ledger", "--fix", "--json", "--csv", "--config"):
        assert option in text


def test_from_publish_and_from_ledger_together_are_refused_with_exit_code_2(
    bridge: Bridge,
) -> None:
    path = _full_file(bridge)
    code, output = bridge.run("reconcile", AB, "--from-publish", str(path), "--from-ledger")
    assert code == 2
    assert "choose --from-publish FILE or --from-ledger, not both" in output


def test_json_and_csv_together_are_refused_with_exit_code_2(bridge: Bridge) -> None:
    code, output = bridge.run("reconcile", AB, "--json", "--csv")
    assert code == 2
    assert "choose --json or --csv, not both" in output


def test_a_missing_or_broken_publishing_file_is_refused_with_exit_code_2(bridge: Bridge) -> None:
    code, output = bridge.run("reconcile", AB, "--from-publish", str(bridge.root / "nope.tar.gz"))
    assert code == 2
    assert "nope.tar.gz" in output
    broken = bridge.root / "broken.tar.gz"
    broken.write_bytes(b"not a tar at all")
    code, output = bridge.run("reconcile", AB, "--from-publish", str(broken))
    assert code == 2, output
    assert "cannot read the publishing file" in output


def test_the_SCF_or_a_stranger_is_refused_with_exit_code_2(bridge: Bridge) -> None:
    code, output = bridge.run("reconcile", SCF)
    assert code == 2
    assert "01AAA_RS is not a member institution" in output


def test_a_clean_member_exits_0(bridge: Bridge) -> None:
    code, output = bridge.run("reconcile", AB)
    assert code == 0, output
    assert "reconcile 01AAA_AB (from ledger, plan only): 2 barcodes" in output
    assert "nothing to repair" in output
    assert "reconcile 01AAA_AB: started" in output  # not a terminal: plain progress lines


def test_a_plan_with_findings_prints_the_table_and_exits_1(bridge: Bridge) -> None:
    _drift(bridge)
    code, output = bridge.run("reconcile", AB)
    assert code == 1, output
    assert "planned repair" in output
    assert "│ drift │ AB0001" in output
    assert "AB0001X differs from the member item in description" in output
    assert "run with --fix to repair" in output
    mirror = bridge.state.find_item(SCF, "AB0001X")
    assert mirror is not None
    assert mirror.data["description"] == "edited by hand in the SCF"  # nothing changed


def test_json_lists_the_findings_for_scripts(bridge: Bridge) -> None:
    _drift(bridge)
    result = _invoke(bridge, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert {key: report[key] for key in ("institution", "source", "fix", "clean")} == {
        "institution": AB,
        "source": "ledger",
        "fix": False,
        "clean": False,
    }
    assert (report["barcodes_checked"], report["requests_checked"]) == (2, 0)
    assert report["counts"] == {"drift": 1}
    (finding,) = report["findings"]
    assert finding == {
        "kind": "drift",
        "institution": AB,
        "barcode": "AB0001",
        "request_id": None,
        "message": "AB0001X differs from the member item in description",
        "repair": "update_mirror",
        "plan": "PUT the member's description over AB0001X (I11)",
        "changed_fields": ["description"],
        "new_barcode": None,
        "result": None,
    }


def test_csv_has_a_header_and_one_row_per_finding(bridge: Bridge) -> None:
    _drift(bridge)
    result = _invoke(bridge, "--csv")
    assert result.exit_code == 1
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["kind"], row["barcode"], row["repair"], row["outcome"]) == (
        "drift",
        "AB0001",
        "update_mirror",
        "",
    )


def test_fix_repairs_records_and_a_second_run_finds_nothing(bridge: Bridge) -> None:
    _drift(bridge)
    code, output = bridge.run("reconcile", AB, "--fix")
    assert code == 0, output
    assert "repair result" in output
    assert "ok: updated description of AB0001X" in output
    assert "1 repaired, 0 remaining" in output
    mirror = bridge.state.find_item(SCF, "AB0001X")
    assert mirror is not None
    assert mirror.data["description"] != "edited by hand in the SCF"
    code, output = bridge.run("reconcile", AB, "--fix")
    assert code == 0, output
    assert "nothing to repair" in output
    code, output = bridge.run_ledger("events", "--action", "reconcile.drift", "--json")
    (event,) = json.loads(output)
    assert (event["barcode"], event["outcome"]) == ("AB0001", "ok")


def test_from_publish_reads_a_local_archive(bridge: Bridge) -> None:
    path = _full_file(bridge)
    result = _invoke(bridge, "--from-publish", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["source"], report["findings"]) == ("publishing file AB_full.tar.gz", [])
    assert path.exists()  # the operator's file is read, never claimed or moved
