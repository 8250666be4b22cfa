"""The demo's OCLC step (issue 16, rules O1–O7): Carleton's and Western's reports merged.

The inputs are the reference files beside the repository,
``../shared/reference/joint_oclc_data_sync/`` (``$ALMABRIDGE_OCLC_DEMO_INPUTS`` names a copy
elsewhere, same layout): ``inputs/CEFtestfile.txt``, ``inputs/UWOtestfile.txt``,
``inputs/Do_not_change.xlsx`` and the manual Analytics export
``analytics/OCLC-doublecheck_manual_export_642c02a.xlsx``. The export's rows are served by the
fake Alma's Analytics of its Network Zone (``01AAA_NETWORK``, pages of 25, columns in another
order, empty cells left out), so the run reads the doublecheck as
``almabridge run oclc-sync --config oclc-workflows.toml --report CEFtestfile.txt --report
UWOtestfile.txt --do-not-change Do_not_change.xlsx --analytics-institution 01AAA_NETWORK`` does,
on the service's own ledger. The counts and the conflicts printed are read back from the run's
records (one per Network Id). Without the folder (an installed copy), the step says so and is
skipped.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import entrypoints
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.clock import SystemClock
from adapters.oclc.workbooks import read_doublecheck
from application.ports.ledger import Ledger
from application.shared.ledger_records import JsonValue
from application.shared.run_records import RunRecord, RunStatus
from application.shared.runs import JobRunner, RunResult
from domain.oclc.classification import Sheet
from domain.oclc.doublecheck import HEADINGS, DoublecheckRow
from entrypoints.oclc_wiring import OCLC_SYNC_ENTRY
from entrypoints.workflow_entries import read_config

__all__ = [
    "EXPECTED",
    "INPUTS_ENV",
    "OclcConflict",
    "OclcSkipped",
    "OclcStep",
    "reference_folder",
    "run_oclc_step",
]

INPUTS_ENV: Final = "ALMABRIDGE_OCLC_DEMO_INPUTS"
"""Names a folder laid out as the reference one, to use instead of it."""
REPORTS: Final = ("inputs/CEFtestfile.txt", "inputs/UWOtestfile.txt")
DO_NOT_CHANGE: Final = "inputs/Do_not_change.xlsx"
DOUBLECHECK: Final = "analytics/OCLC-doublecheck_manual_export_642c02a.xlsx"
NZ: Final = "01AAA_NETWORK"
"""The fake Alma's Network Zone, given an API key and Analytics for this step."""
NZ_KEY: Final = "nz-example-key"
ANALYTICS_PATH: Final = (
    "/shared/Demo Network 01AAA_NETWORK/Reports/OCLC Identifiers/OCLC-doublecheck"
)
PAGE_SIZE: Final = 25
COLUMN_ORDER: Final = tuple(HEADINGS[i] for i in (3, 4, 2, 0, 1))
"""The Analytics columns in another order than the export's: they are read by heading (O5)."""

EXPECTED: Final[Mapping[str, int]] = {
    "NZ": 2238,
    "DIFF": 129,
    "SAME": 2109,
    "CEF": 36,
    "UWO": 10,
    Sheet.DO_NOT_CHANGE.value: 0,
    Sheet.UPDATE_BY_JOB.value: 107,
    Sheet.UPDATED_RECORDS.value: 2,
    Sheet.FOR_REVIEW.value: 14,
    Sheet.NOT_IN_ANALYTICS.value: 6,
    "conflicts": 5,
    "outputs": 8,
}
"""What the reference inputs give (the golden tests' figures, upstream's for O1–O4)."""

_COLUMN_KEYS: Final = {
    "Existing 035a": "existing_035a",
    "Incoming 035a": "incoming_035a",
    "Action": "action",
}
"""A conflict's differing column (``Conflict.disagreement``) → its key in the record's detail."""
_INSTITUTION_FILE = re.compile(r"^(\S+)bibprocess\.csv: ")
_NOT_INSTITUTIONS: Final = frozenset({"NZ", "DIFF", "SAME", "other", *(s.value for s in Sheet)})
"""`OclcStep.tally`'s keys that are not an institution's code."""


def reference_folder(environ: Mapping[str, str] | None = None) -> Path:
    """``$ALMABRIDGE_OCLC_DEMO_INPUTS``, else ``<repository>/../shared/reference/
    joint_oclc_data_sync``."""
    given = (os.environ if environ is None else environ).get(INPUTS_ENV)
    if given:
        return Path(given).expanduser().resolve()
    repository = Path(entrypoints.__file__).resolve().parent.parent
    return repository.parent / "shared" / "reference" / "joint_oclc_data_sync"


@dataclass(frozen=True)
class OclcSkipped:
    """The step did not run: its inputs folder is not there (an installed copy)."""

    folder: Path

    def as_expected(self) -> bool:
        """A skipped step is no failure of the bridge."""
        return True


@dataclass(frozen=True)
class OclcConflict:
    """One conflict (O2) as its Network Id's record tells it: the rows' institutions, kept
    first, and each differing column with the rows' values."""

    network_id: str
    institutions: tuple[str, ...]
    differs: tuple[tuple[str, tuple[str, ...]], ...]

    def line(self) -> str:
        """``991523164305151 CEF over UWO: Incoming 035a 1520924209 / 1520918535, ...``."""
        kept, *others = self.institutions or ("?",)
        who = f"{kept} over {', '.join(others)}" if others else kept
        what = ", ".join(f"{column} {' / '.join(values)}" for column, values in self.differs)
        return f"{self.network_id} {who}: {what or 'rows differ'}"


@dataclass(frozen=True)
class OclcStep:
    """What the OCLC run did, read back from its run records, and where its files are."""

    run: RunResult
    records: tuple[RunRecord, ...]
    outputs: tuple[Path, ...]
    lines: tuple[tuple[str, int], ...]
    """Each report's name and its number of lines."""
    doublecheck_rows: int

    def tally(self) -> Counter[str]:
        """Network Ids by where they went, from each record's reason: every `Sheet`, ``SAME``,
        an institution's code, ``DIFF`` (the NZ's DIFF rows, classified or not) and ``NZ``."""
        found: Counter[str] = Counter()
        sheets = tuple(sheet.value for sheet in Sheet)
        for record in self.records:
            if record.kind != "network_id":
                continue
            reason = record.reason
            sheet = next((s for s in sheets if reason.startswith(f"{s} in ")), None)
            institution = _INSTITUTION_FILE.match(reason)
            if sheet is not None:
                found[sheet] += 1
                found["DIFF"] += 1
            elif reason.startswith("DIFF in "):
                found["DIFF"] += 1
            elif reason.startswith("SAME in "):
                found["SAME"] += 1
            elif institution is not None:
                found[institution.group(1)] += 1
            else:
                found["other"] += 1
        found["NZ"] = found["DIFF"] + found["SAME"]
        return found

    def institution_codes(self) -> tuple[str, ...]:
        """The codes of the institutions whose ``{code}bibprocess.csv`` got rows, sorted."""
        return tuple(sorted(key for key in self.tally() if key not in _NOT_INSTITUTIONS))

    def conflicts(self) -> tuple[OclcConflict, ...]:
        """The conflicted Network Ids, in the run's order, from their records' detail."""
        return tuple(
            found for found in (_conflict(record) for record in self.records) if found is not None
        )

    def skipped_lines(self) -> int:
        """Report lines O1 could not read (each a failed ``line`` record)."""
        return sum(record.kind == "line" for record in self.records)

    def figures(self) -> dict[str, int]:
        """The figures `EXPECTED` names, as this run gave them."""
        tally = self.tally()
        figures = {key: tally[key] for key in EXPECTED}
        figures["conflicts"] = len(self.conflicts())
        figures["outputs"] = len(self.outputs)
        return figures

    def as_expected(self) -> bool:
        """The run ended ok with the reference figures, its 5 conflicts and its 8 files."""
        return (
            self.run.run.status is RunStatus.OK
            and self.skipped_lines() == 0
            and self.figures() == dict(EXPECTED)
            and all(path.is_file() for path in self.outputs)
        )


def _conflict(record: RunRecord) -> OclcConflict | None:
    """The conflict a ``network_id`` record carries in its detail (``conflict_detail``)."""
    conflict = record.detail.get("conflict") if record.kind == "network_id" else None
    if not isinstance(conflict, dict):
        return None
    rows = [row for row in _list(conflict.get("rows")) if isinstance(row, dict)]
    differs = tuple(
        (column, tuple(_text(row.get(_COLUMN_KEYS.get(column, ""))) for row in rows))
        for column in (c for c in _list(conflict.get("disagreement")) if isinstance(c, str))
    )
    institutions = tuple(_text(row.get("institution")) for row in rows)
    return OclcConflict(record.key, institutions, differs)


def _list(value: JsonValue | None) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def _text(value: JsonValue | None) -> str:
    return value if isinstance(value, str) and value else "none"


async def run_oclc_step(
    root: Path,
    state: FakeAlmaState,
    gateway: str,
    ledger: Ledger,
    say: Callable[[str], None],
    folder: Path | None = None,
) -> OclcStep | OclcSkipped:
    """Serve the doublecheck from the fake's Analytics, write the workflows file, merge, and
    say what the run did; skipped (one line) when the reference folder is not there."""
    folder = folder or reference_folder()
    if not folder.is_dir():
        say(
            f"then: OCLC data sync skipped: no reference inputs at {folder} "
            f"(${INPUTS_ENV} may name a copy)"
        )
        return OclcSkipped(folder)
    reports = [folder / name for name in REPORTS]
    exported = await asyncio.to_thread(read_doublecheck, folder / DOUBLECHECK)
    _serve(state, exported)
    config = root / "oclc-workflows.toml"
    await asyncio.to_thread(_write, config, gateway)
    setup = await asyncio.to_thread(read_config, config)
    args = [
        *(part for report in reports for part in ("--report", str(report))),
        *("--do-not-change", str(folder / DO_NOT_CHANGE)),
        *("--analytics-institution", NZ),
    ]
    # The entry checks the files and reads the configuration: blocking, off the event loop.
    options = await asyncio.to_thread(OCLC_SYNC_ENTRY.options, args, setup)
    workflow = OCLC_SYNC_ENTRY.build(options, setup)
    runner = JobRunner(ledger, SystemClock(), ledger)
    result = await runner.run(workflow, out_dir=root / "oclc-sync", options=options)
    async with ledger.unit_of_work() as uow:
        records = tuple(await uow.runs.records_of(result.run.id))
    out_dir = Path(result.run.out_dir or root / "oclc-sync")
    outputs = tuple(out_dir / digest.name for digest in result.run.outputs)
    lines = await asyncio.to_thread(_line_counts, reports)
    step = OclcStep(result, records, outputs, lines, len(exported))
    _tell(step, folder, out_dir, say)
    return step


def _tell(step: OclcStep, folder: Path, out_dir: Path, say: Callable[[str], None]) -> None:
    run = step.run.run
    tally = step.tally()
    say(
        f"then: OCLC data sync of the reference inputs in {folder}: run {run.id} "
        f"{run.status.value}" + (f" ({run.reason})" if run.reason else "")
    )
    say(
        f"      doublecheck: --analytics-institution {NZ}, the fake's Analytics serving the manual "
        f"export's {step.doublecheck_rows} rows, {PAGE_SIZE} a page"
    )
    each = ", ".join(f"{name} {count}" for name, count in step.lines)
    say(
        f"      read {len(step.lines)} reports, {sum(c for _, c in step.lines)} lines ({each}), "
        f"{step.skipped_lines()} skipped"
    )
    files = "".join(f", {code}bibprocess.csv {tally[code]}" for code in step.institution_codes())
    if tally["other"]:
        files += f", {tally['other']} other"
    say(f"      NZ rows {tally['NZ']} (DIFF {tally['DIFF']}, SAME {tally['SAME']}){files}")
    conflicts = step.conflicts()
    kept = sorted({c.institutions[0] for c in conflicts if c.institutions})
    whose = f", {kept[0]}'s row kept each time" if len(kept) == 1 else ""
    say(
        f"      {len(conflicts)} conflicts{whose} (all on the identifier report's conflicts sheet):"
    )
    for conflict in conflicts:
        say(f"        {conflict.line()}")
    say("      DIFF classified: " + ", ".join(f"{s.value} {tally[s.value]}" for s in Sheet))
    say(f"      files in {out_dir}:")
    for names in _wrapped([path.name for path in step.outputs]):
        say(f"        {names}")


def _wrapped(names: Sequence[str], width: int = 125) -> list[str]:
    """Names joined by ", " in lines of at most about ``width`` characters."""
    lines: list[str] = []
    for name in names:
        if lines and len(lines[-1]) + len(name) + 2 <= width:
            lines[-1] += f", {name}"
        else:
            lines.append(name)
    return lines


def _serve(state: FakeAlmaState, exported: Sequence[DoublecheckRow]) -> None:
    """The export's rows as the NZ's Analytics report: pages of 25, columns in another order,
    empty cells left out (O5), multiple values joined as Analytics joins them."""
    if NZ not in state.institutions:
        state.add_institution(NZ, name="Network Zone", api_keys=[NZ_KEY])
    rows = [
        dict(
            zip(
                HEADINGS,
                (
                    row.network_id,
                    "; ".join(row.oclc_035a),
                    "; ".join(row.oclc_035z),
                    row.lifecycle or "",
                    " | ".join(row.institutions),
                ),
                strict=True,
            )
        )
        for row in exported
    ]
    state.add_report(
        NZ, ANALYTICS_PATH, HEADINGS, rows, page_size=PAGE_SIZE, column_order=COLUMN_ORDER
    )


def _write(config: Path, gateway: str) -> None:
    config.write_text(
        f'[alma.{NZ}]\nurl = "{gateway}"\napikey = "{NZ_KEY}"\nrate_limit_per_second = 25\n\n'
        f'[oclc_sync]\nanalytics_path = "{ANALYTICS_PATH}"\n',
        encoding="utf-8",
    )


def _line_counts(paths: Sequence[Path]) -> tuple[tuple[str, int], ...]:
    """Each report's name and lines, a last line without its newline counted too."""
    counted: list[tuple[str, int]] = []
    for path in paths:
        data = path.read_bytes()
        counted.append((path.name, data.count(b"\n") + (not data.endswith(b"\n") and bool(data))))
    return tuple(counted)
