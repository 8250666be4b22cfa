"""The `cleanup` run (rule B8): generated files older than keep_days go, each one a run record."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.local_files import LocalFolders
from application.ports.ledger import Ledger
from application.shared.cleanup import DEFAULT_KEEP_DAYS, Cleanup
from application.shared.run_records import RecordOutcome, RunCounts, RunStatus
from application.shared.runs import JobRunner
from tests.integration.ledger.support import Backend


def _aged(path: Path, backend: Backend, days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(path.name)
    # An hour more, so that the whole days of its age are `days` whatever the mtime rounding.
    moment = (backend.clock.now() - timedelta(days=days, hours=1)).timestamp()
    os.utime(path, (moment, moment))
    return path


def _runner(backend: Backend, ledger: Ledger) -> JobRunner:
    return JobRunner(ledger, backend.clock, ledger)  # type: ignore[arg-type]


async def test_B8_files_older_than_keep_days_are_removed_and_recorded(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    out, logs = tmp_path / "out", tmp_path / "logs"
    old_report = _aged(out / "west-holdings" / "wau.report.csv", backend, 43)
    old_loader = _aged(out / "course-loading" / "20251101000000.txt", backend, 60)
    fresh = _aged(out / "course-loading" / "20251230000000.txt", backend, 41)
    old_log = _aged(logs / "almabridge.log.1", backend, 100)
    missing = tmp_path / "cache"

    cleanup = Cleanup(LocalFolders(), [str(out), str(logs), str(missing)])
    result = await _runner(backend, ledger).run(cleanup, out_dir=tmp_path / "run")

    assert result.run.status is RunStatus.OK
    assert result.run.counts == RunCounts(ok=3, skipped=1, failed=0)
    assert not old_report.exists()
    assert not old_loader.exists()
    assert not old_log.exists()
    assert fresh.exists()
    async with ledger.unit_of_work() as uow:
        records = await uow.runs.records_of(result.run.id)
    by_key = {record.key: record for record in records}
    assert by_key[str(old_loader)].outcome is RecordOutcome.OK
    assert by_key[str(old_loader)].reason == f"removed {old_loader}: 60 days old, kept 42"
    assert by_key[str(old_loader)].detail["age_days"] == 60
    assert (by_key[str(missing)].kind, by_key[str(missing)].outcome) == (
        "folder",
        RecordOutcome.SKIPPED,
    )


async def test_B8_a_dry_run_removes_nothing_and_names_what_it_would(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    old = _aged(tmp_path / "out" / "old.txt", backend, DEFAULT_KEEP_DAYS + 1)
    cleanup = Cleanup(LocalFolders(), [str(tmp_path / "out")])
    result = await _runner(backend, ledger).run(cleanup, out_dir=tmp_path / "run", dry_run=True)
    assert old.exists()
    assert (result.run.status, result.run.counts) == (RunStatus.OK, RunCounts(skipped=1))
    async with ledger.unit_of_work() as uow:
        [record] = await uow.runs.records_of(result.run.id)
    assert record.reason == f"dry run: would remove {old} (43 days old)"


class Stubborn(LocalFolders):
    """Refuses to remove one file, as a file held by another user would be."""

    def __init__(self, refused: Path) -> None:
        self.refused = str(refused)

    async def remove(self, path: str) -> None:
        if path == self.refused:
            raise PermissionError(13, "Permission denied", path)
        await super().remove(path)


async def test_B2_a_file_that_cannot_be_removed_fails_alone(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    held = _aged(tmp_path / "out" / "a.txt", backend, 50)
    other = _aged(tmp_path / "out" / "b.txt", backend, 50)
    cleanup = Cleanup(Stubborn(held), [str(tmp_path / "out")], keep_days=7)
    result = await _runner(backend, ledger).run(cleanup, out_dir=tmp_path / "run")
    assert result.run.status is RunStatus.PARTIAL
    assert held.exists()
    assert not other.exists()
    [failure] = result.failures
    assert failure.reason == f"cannot remove {held}: Permission denied"


async def test_B8_links_are_not_followed_out_of_the_folders(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    elsewhere = _aged(tmp_path / "precious" / "thesis.tex", backend, 400)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path / "precious")
    (tmp_path / "out" / "file-link").symlink_to(elsewhere)
    cleanup = Cleanup(LocalFolders(), [str(tmp_path / "out")], keep_days=0)
    result = await _runner(backend, ledger).run(cleanup, out_dir=tmp_path / "run")
    assert elsewhere.exists()
    assert result.run.counts == RunCounts()


def test_keep_days_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="keep_days"):
        Cleanup(LocalFolders(), ["out"], keep_days=-1)
