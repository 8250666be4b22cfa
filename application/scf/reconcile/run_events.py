"""The ledger events of a reconciliation run: one `reconcile.<kind>` per repair, written with the
ledger changes the repair carries, and one `reconcile.run` at the end (issue 7)."""

from __future__ import annotations

from application.ports.ledger import Ledger
from application.scf.reconcile.repair_results import Repaired
from application.scf.reconcile.report import ReconcileReport
from application.shared.ledger_records import JsonValue, Outcome
from domain.scf.reconciliation import Finding


async def record_repair(ledger: Ledger, institution: str, finding: Finding, done: Repaired) -> None:
    result = done.result
    details: dict[str, JsonValue] = {
        "kind": finding.kind.value,
        "repair": finding.repair.value,
        "finding": finding.message,
        "plan": finding.plan,
        **done.details,
    }
    if finding.new_barcode:
        details["new_barcode"] = finding.new_barcode
    if finding.changed_fields:
        details["changed_fields"] = list(finding.changed_fields)
    async with ledger.unit_of_work() as uow:
        if done.ledger is not None:
            # With the event, or neither: a failure may carry facts too (a loan it ended).
            await done.ledger(uow)
        await uow.events.append(
            f"reconcile.{finding.kind.value}",
            result.outcome,
            institution=institution,
            barcode=finding.barcode,
            request_id=finding.request_id,
            message=result.message,
            details=details,
            error_code=result.error_code,
        )
        await uow.commit()


async def record_run(ledger: Ledger, report: ReconcileReport) -> None:
    if report.clean:
        outcome = Outcome.OK
    elif report.fix or report.stopped or report.failed:
        outcome = Outcome.FAILED
    else:
        outcome = Outcome.SKIPPED  # a plan: found, deliberately not repaired
    counts: dict[str, JsonValue] = dict(report.counts())
    async with ledger.unit_of_work() as uow:
        await uow.events.append(
            "reconcile.run",
            outcome,
            institution=report.institution,
            message=report.summary(),
            details={
                "source": report.source,
                "fix": report.fix,
                "barcodes_checked": report.items_checked,
                "requests_checked": report.requests_checked,
                "findings": counts,
                "repaired": report.repaired,
                "remaining": len(report.remaining),
                "stopped": report.stopped,
            },
        )
        await uow.commit()
