"""When Alma does not answer: a barcode that cannot be read is reported, never guessed at, and
the daily quota stops the run, which a later run completes (rules A3, issue 7)."""

from __future__ import annotations

from pathlib import Path

from application.scf.reconcile.report import ReconcileProgress
from domain.scf.reconciliation import FindingKind
from entrypoints.bridge_wiring import reconciliation
from tests.scenarios.items.support import FAST_LOAN_RETRY
from tests.scenarios.reconcile.support import (
    kinds,
    mirrored_world,
    reconcile,
    reconcile_events,
    scf_item,
)
from tests.scenarios.world import AB, SCF


async def test_A3_a_barcode_whose_facts_cannot_be_read_is_reported_not_repaired(
    tmp_path: Path,
) -> None:
    async with mirrored_world(tmp_path, "sqlite") as world:
        assert world.faults is not None
        broken = scf_item(world, "AB7001")
        scf_item(world, "AB7002").data["description"] = "by hand"
        world.faults.fail_next(100, status=503, institution=SCF, path_contains=broken.pid)
        report = await reconcile(world, fix=True)
        assert kinds(report) == [("check_failed", "AB7001"), ("drift", "AB7002")]
        unreadable, drift = report.entries
        assert unreadable.result is None
        assert "503" in unreadable.finding.message or "HTTP" in unreadable.finding.message
        assert drift.settled
        assert not report.clean
        assert [e.action for e in await reconcile_events(world)] == ["reconcile.drift"]


async def test_A3_the_daily_quota_stops_the_repairs_and_the_next_run_finishes(
    tmp_path: Path,
) -> None:
    async with mirrored_world(tmp_path, "sqlite") as world:
        faults = world.faults
        assert faults is not None
        for barcode in ("AB7001", "AB7002"):
            scf_item(world, barcode).data["description"] = "by hand"

        def spend_quota_once_checked(progress: ReconcileProgress) -> None:
            # Every barcode read: the quota runs out just before the first repair's PUT.
            if progress.phase == "checking barcodes" and progress.done == 2 and not armed:
                armed.append(True)
                faults.fail_next(1, kind="daily", institution=SCF)

        armed: list[bool] = []
        stopped = await reconciliation(world.bridge, loan_retry=FAST_LOAN_RETRY).run(
            AB, fix=True, progress=spend_quota_once_checked
        )
        assert stopped.stopped is not None
        assert "DAILY_THRESHOLD" in stopped.stopped
        assert [entry.settled for entry in stopped.entries] == [False, False]
        first, second = stopped.entries
        assert first.result is not None
        assert first.result.outcome == "failed"
        assert second.result is None  # not attempted once the quota was spent
        assert not stopped.clean
        (run,) = await world.events(action="reconcile.run")
        assert run.outcome == "failed"

        finished = await reconcile(world, fix=True)
        assert [kind for kind, _ in kinds(finished)] == [FindingKind.DRIFT.value] * 2
        assert finished.clean
        assert (await reconcile(world, fix=True)).entries == ()
