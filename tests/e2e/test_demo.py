"""`almabridge demo`, the README's main command: run as a user would, on a fresh machine.

It must finish well under a minute, exit 0, show what the bridge did (the SCF bridge, then a WEST
holdings export, then the OCLC merge of the reference inputs), say where the ledger and logs are,
print no secret, and leave nothing listening.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import SHARED_REFERENCE

REPOSITORY = Path(__file__).resolve().parents[2]
OCLC_REFERENCE = SHARED_REFERENCE / "joint_oclc_data_sync"
OCLC_CONFLICTS = (
    "991523164305151 CEF over UWO: Incoming 035a 1520924209 / 1520918535, "
    "Action create / unresolved",
    "991702800505151 CEF over UWO: Action match / field transfer",
    "991993690805151 CEF over UWO: Action match / field transfer",
    "991980006605151 CEF over UWO: Action match / field transfer",
    "991585665705151 CEF over UWO: Action field transfer / match",
)
"""Issue 16: the reference inputs' 5 conflicts; the CEF row (the first report's) is kept."""
OCLC_FILES = (
    "bibprocessmerged.csv",
    "CEFbibprocess.csv",
    "UWObibprocess.csv",
    "comparison_file_IZ.xlsx",
    "NZ-OCLC-Identifier-report_*.xlsx",
    "a_to_z_MMSid_for_set.txt",
    "oclc_numbers_updated.txt",
    "for_import_to_NZ.xlsx",
)
TIMEOUT = 90


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_the_demo_runs_end_to_end_and_leaves_nothing_running(tmp_path: Path) -> None:
    # A clean environment: no configuration or secrets of whoever runs the tests leak in.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ALMABRIDGE_") and key != "CONFIG_FILE"
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "demo", "--folder", str(tmp_path / "demo")],
        cwd=tmp_path,  # nothing of the repository's working directory is needed
        env={**environment, "COLUMNS": "200", "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert elapsed < 60, f"took {elapsed:.0f} s"

    for line in (
        "1/4 publishing archive of 01AAA_AB dropped; JOB_END sent: done",
        "2/4 request file of 01AAA_AB dropped; JOB_END sent: done",
        "3/4 SCF desk returned the loan of AB0002X; LOAN_RETURNED sent: done",
        "REQUEST_CANCELED sent: done",
    ):
        assert line in output
    rows = {
        "items mirrored into the SCF (I7-I9)": "3",
        "transit loans of the mirrors (I10)": "3",
        "items left alone, not in remote storage (I6)": "1",
        "requests forwarded to the SCF (R4-R6)": "1",
        "requests cancelled at the member (R7)": "1",
        "member items scanned in after an SCF return (C1)": "1",
        "member requests cancelled after an SCF cancel (C2)": "1",
        "failed actions": "0",
        "webhooks processed": "4",
    }
    for label, count in rows.items():
        assert re.search(rf"│ {re.escape(label)} +│ {count} +│", output), label
    assert "AB 0003+4&5#6 -> AB 0003+4&5#6X" in output
    # Issue 15: the WEST step, its counts (H2, H4) and its three files (H5).
    assert re.search(
        r"WEST holdings export of 01AAA_AB \(4 MMS ids\): run \d+ ok, 2 holdings kept, 3 skipped",
        output,
    )
    demo_west = tmp_path / "demo" / "west-holdings"
    for suffix in ("xml", "mrc", "report.csv"):
        (named,) = demo_west.glob(f"wau.alma.archived.*.{suffix}")
        assert str(named) in output
    # Issue 16: the OCLC step on the reference inputs, its counts, conflicts and files (O1-O7).
    assert OCLC_REFERENCE.is_dir(), f"reference inputs not found at {OCLC_REFERENCE}"
    assert re.search(
        rf"OCLC data sync of the reference inputs in {re.escape(str(OCLC_REFERENCE))}: "
        r"run \d+ ok\n",
        output,
    )
    for line in (
        "doublecheck: --analytics-institution 01AAA_NETWORK, the fake's Analytics serving the "
        "manual export's 123 rows, 25 a page",
        "read 2 reports, 2424 lines (CEFtestfile.txt 1626, UWOtestfile.txt 798), 0 skipped",
        "NZ rows 2238 (DIFF 129, SAME 2109), CEFbibprocess.csv 36, UWObibprocess.csv 10",
        "5 conflicts, CEF's row kept each time",
        *OCLC_CONFLICTS,
        "DIFF classified: do_not_change 0, update by job 107, updated records 2, "
        "records for review 14, not in analytics 6",
    ):
        assert line in output, line
    conflict_lines = re.findall(r"^ +\d{15} CEF over UWO: .+$", output, flags=re.MULTILINE)
    assert sorted(line.strip() for line in conflict_lines) == sorted(OCLC_CONFLICTS)
    demo_oclc = tmp_path / "demo" / "oclc-sync"
    assert f"files in {demo_oclc}:" in output
    for pattern in OCLC_FILES:
        (named,) = demo_oclc.glob(pattern)
        assert named.stat().st_size > 0
        assert named.name in output
    assert "demo OK in" in output

    demo = tmp_path / "demo"
    assert f"ledger:  {demo / 'ledger.db'}" in output
    assert f"logs:    {demo / 'logs' / 'application.log'}" in output
    assert (demo / "ledger.db").is_file()
    assert "scanned member item AB0002 in" in (demo / "logs" / "application.log").read_text()

    conf = json.loads((demo / "conf.json").read_text())
    for secret in (conf["webhook_secret"], conf["ftp_server"]["password"]):
        assert secret not in output

    # Issues 17 and 18: the course load and its rollover e-mail, the ArchivesSpace export.
    assert "then: Leganto course loading of 01AAA_AB: run" in output
    assert "ROLLOVER from" in output
    assert "e-mail to reserves@demo.example" in output
    assert "rotation first (AS1): removed MARC_out_old.xml; renamed MARC_out.xml" in output
    assert "FAILED: no 041" in output

    ports = {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", output)}
    # the fake Alma, the SFTP server, the service, the fake ArchivesSpace
    assert len(ports) == 4, output
    assert all(_refused(port) for port in ports)
