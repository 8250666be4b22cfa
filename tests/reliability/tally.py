"""The reliability suite's evidence table: what each attack injected and what survived it.

Every reliability test calls `record(...)` once per scenario with figures it *measured* (from the
fake Alma's call log, its state, the ledger and the SFTP server), after asserting on them; the
suite's conftest prints the table at the end of the run, so one CI log holds the numbers quoted in
the resolution note.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One attacked scenario and its measured outcome."""

    scenario: str
    faults_injected: int = 0
    messages_processed: int = 0
    records_processed: int = 0
    effects_lost: int = 0
    duplicates: int = 0
    transient_cancellations: int = 0


ROWS: list[Row] = []

COLUMNS = (
    ("scenario", "scenario"),
    ("faults_injected", "faults injected"),
    ("messages_processed", "messages"),
    ("records_processed", "records"),
    ("effects_lost", "effects lost"),
    ("duplicates", "duplicates"),
    ("transient_cancellations", "transient cancels"),
)
MUST_BE_ZERO = COLUMNS[4:]
"""Effects lost, duplicates and transient cancellations: any other total is a failure."""


def record(scenario: str, **figures: int) -> Row:
    """Add one scenario's figures to the table (names as in `Row`)."""
    row = Row(scenario, **figures)
    ROWS.append(row)
    return row


def render(rows: list[Row]) -> str:
    """The table as fixed-width text, with a total line."""
    if not rows:
        return "reliability: no scenario recorded"
    total = Row(
        "TOTAL",
        **{name: sum(getattr(r, name) for r in rows) for name, _title in COLUMNS[1:]},
    )
    table = [*rows, total]
    cells = [[title for _name, title in COLUMNS]]
    cells += [[str(getattr(r, name)) for name, _title in COLUMNS] for r in table]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]

    def line(row: list[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    rule = "-" * len(line(cells[0]))
    verdict = ", ".join(f"{getattr(total, name)} {title}" for name, title in MUST_BE_ZERO)
    ok = all(getattr(total, name) == 0 for name, _title in MUST_BE_ZERO)
    verdict = f"must be 0: {verdict} -> {'OK' if ok else 'NOT ZERO'}"
    return "\n".join(
        [line(cells[0]), rule, *(line(r) for r in cells[1:-1]), rule, line(cells[-1]), verdict]
    )
