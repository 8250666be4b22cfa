"""What the demo shows at the end: what the bridge did, read back from its ledger.

Everything in the tables comes from the ledger the service wrote (events, mirror rows and the
inbox), not from what the demo believes it asked for: the point is to show the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from application.ports.ledger import Ledger
from application.scf.circulation.carry_back import CANCEL_SOURCE, SCAN_IN
from application.shared.ledger_records import InboxDepth, LedgerEvent, Outcome

SHOWN_ACTIONS = ("item.", "request.", "circulation.", "file.", "items.sync", "logs.")


@dataclass
class Happened:
    """The counts and names of the demo's table, from the ledger."""

    mirrored: list[str] = field(default_factory=list)
    loaned: list[str] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    scanned_in: list[str] = field(default_factory=list)
    cancelled_after_scf: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    inbox: InboxDepth = field(default_factory=lambda: InboxDepth(0, 0, 0, 0))
    events: list[LedgerEvent] = field(default_factory=list)

    def missing(self) -> list[str]:
        """What the demo expected and the ledger does not show; empty when all went well."""
        expectations = {
            "items mirrored": self.mirrored,
            "transit loans": self.loaned,
            "requests forwarded": self.forwarded,
            "requests cancelled": self.cancelled,
            "scan-ins": self.scanned_in,
            "cancels after an SCF cancel": self.cancelled_after_scf,
        }
        gaps = [name for name, found in expectations.items() if not found]
        if self.failed:
            gaps.append(f"{len(self.failed)} failed actions")
        if self.inbox.dead or self.inbox.backlog:
            gaps.append(f"{self.inbox.dead} dead and {self.inbox.backlog} unfinished webhooks")
        return gaps


def _subject(event: LedgerEvent) -> str:
    return event.barcode or event.request_id or "-"


async def read_back(ledger: Ledger) -> Happened:
    """Collect the demo's outcomes from the ledger."""
    happened = Happened(events=await ledger.events(limit=10_000), inbox=await ledger.inbox_depth())
    for event in happened.events:
        ok = event.outcome is Outcome.OK
        if event.outcome is Outcome.FAILED:
            happened.failed.append(f"{event.action} {_subject(event)}: {event.message}")
        elif event.action == "item.create" and ok and event.barcode:
            happened.mirrored.append(event.barcode)
            history = await ledger.item_history(event.institution or "", event.barcode)
            if history.item is not None and history.item.loaned_at is not None:
                happened.loaned.append(f"{event.barcode}X")
        elif event.action == "item.skip" and event.barcode:
            happened.left_alone.append(event.barcode)
        elif event.action == "request.forward" and ok:
            scf = event.details.get("scf_request_id")
            happened.forwarded.append(f"{event.request_id} ({event.barcode}) as SCF {scf}")
        elif event.action == "request.cancel" and ok:
            happened.cancelled.append(f"{event.request_id} ({event.barcode})")
        elif event.action == SCAN_IN and ok:
            library = event.details.get("library")
            happened.scanned_in.append(f"{event.barcode} at {library}")
        elif event.action == CANCEL_SOURCE and ok:
            happened.cancelled_after_scf.append(f"{event.request_id} ({event.barcode})")
    return happened


def _names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def print_report(console: Console, happened: Happened) -> None:
    """The summary table, then the ledger's events one per line."""
    summary = Table("what happened", "count", "which", title="What the bridge did")
    rows = [
        ("items mirrored into the SCF (I7-I9)", [f"{b} -> {b}X" for b in happened.mirrored]),
        ("transit loans of the mirrors (I10)", happened.loaned),
        ("items left alone, not in remote storage (I6)", happened.left_alone),
        ("requests forwarded to the SCF (R4-R6)", happened.forwarded),
        ("requests cancelled at the member (R7)", happened.cancelled),
        ("member items scanned in after an SCF return (C1)", happened.scanned_in),
        ("member requests cancelled after an SCF cancel (C2)", happened.cancelled_after_scf),
        ("failed actions", happened.failed),
    ]
    for label, names in rows:
        summary.add_row(label, str(len(names)), _names(names))
    inbox = happened.inbox
    summary.add_row("webhooks processed", str(inbox.done), f"{inbox.dead} dead")
    console.print(summary)
    shown = [e for e in happened.events if e.action.startswith(SHOWN_ACTIONS)]
    events = Table("#", "institution", "subject", "action", "outcome", "message")
    events.title = f"Ledger events ({len(shown)} of {len(happened.events)})"
    for event in shown:
        events.add_row(
            str(event.id),
            event.institution or "-",
            _subject(event),
            event.action,
            event.outcome.value,
            (event.message or "")[:90],
        )
    console.print(events)
