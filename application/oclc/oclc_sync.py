"""The OCLC data-sync merge, `almabridge run oclc-sync` (rules O1–O8, B1–B3, B5, B8).

1. O1: read each ``--report`` (named as a run input with its sha256); each line skipped is a
   ``failed`` record ``file:line`` and the rest go on (the run ends partial); a report that
   cannot be used at all ends the run ``failed`` with its one sentence (B2).
2. O2: merge on Network Id; every conflict keeps the primary's row and is shown (O7's
   ``conflicts`` sheet, the Network Id's record with every row in its detail).
3. O3, O4: ``bibprocessmerged.csv``, ``{code}bibprocess.csv``, ``unknown_suffix.csv``, then
   ``comparison_file_IZ.xlsx`` (DIFF, SAME).
4. O5, O6, O7: with a doublecheck (``--doublecheck F.xlsx`` or the NZ's Analytics), the DIFF rows
   are classified and ``NZ-OCLC-Identifier-report_{YYYY-MM-DD}.xlsx``,
   ``a_to_z_MMSid_for_set.txt``, ``oclc_numbers_updated.txt`` and ``for_import_to_NZ.xlsx`` are
   written. Without one the run stops after 3, says that classification needs a doublecheck (a
   progress line and a ``note`` record) and stays ok.
5. Every merged Network Id is a record saying which file or sheet it went to and why
   (`application.oclc.outcomes`), written ``record_chunk`` at a time (one commit each), so a
   million ids cost seconds.
6. O8 (``--create-set [--run-job]``, never in a dry run, B8): `NzSetChain`. Then what is left
   by hand is said.

The date of the report's name is `RunContext.now` in the machine's local time (B3). Every file
is written by the `OclcOutputs` adapter, off the event loop, under its final name only when
complete (B3), and named as a run output.

The do-not-change list and the doublecheck are read while the outputs of 3 are written
(`_Reading`): the doublecheck from Analytics is some 1,100 calls for 55,000 DIFF ids at Alma's
25 a second, and the outputs of a million rows take seconds of their own. What the run tells
and records stays in the order above: each input is named, each progress line said and each
refusal raised where the steps 3 and 4 come to them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from pathlib import Path
from typing import Final

from application.oclc.nz_set import NzSetChain, NzSetResult
from application.oclc.outcomes import (
    LINE,
    NOTE,
    line_entries,
    network_id_entries,
    record_network_ids,
)
from application.oclc.ports import (
    DoNotChangeSource,
    DoublecheckSource,
    OclcOutputs,
    ReportInput,
    ReportSource,
)
from application.oclc.run_messages import (
    left_by_hand,
    tell_classification,
    tell_merge,
    tell_split,
)
from application.shared.alma import AlmaFailure
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome
from domain.oclc.classification import Classification, classify
from domain.oclc.comparison import Comparison, compare_035a
from domain.oclc.doublecheck import DoublecheckRow, OclcInputRefused, doublecheck_index
from domain.oclc.merge import Merge, merge_reports
from domain.oclc.report_rows import ReportRow, UnusableReport
from domain.oclc.split import NZ_SUFFIX, Institution, Split, split_rows
from domain.oclc.text_outputs import set_ids

__all__ = [
    "NEEDS_DOUBLECHECK",
    "OCLC_SYNC",
    "RECORD_CHUNK",
    "OclcRunSettings",
    "OclcSync",
]

OCLC_SYNC: Final = "oclc-sync"
"""The workflow's name, as `almabridge run oclc-sync` takes it."""
RECORD_CHUNK: Final = 10_000
"""Network Id records per committed write."""
NEEDS_DOUBLECHECK: Final = (
    "classification (O5-O7) needs a doublecheck: give --doublecheck F.xlsx (the Analytics "
    "export) or --analytics-institution CODE; the outputs of O1-O4 are written"
)


@dataclass(frozen=True)
class OclcRunSettings:
    """What one run merges (O1–O3): the reports in the order given, the institutions table,
    the NZ's suffix and the primary institution (None: the first report given, O2)."""

    reports: tuple[Path, ...]
    institutions: tuple[Institution, ...]
    nz_suffix: str = NZ_SUFFIX
    primary: str | None = None


class OclcSync:
    """The OCLC data-sync merge (see the module text)."""

    name = OCLC_SYNC

    def __init__(
        self,
        settings: OclcRunSettings,
        reports: ReportSource,
        outputs: OclcOutputs,
        *,
        do_not_change: DoNotChangeSource | None = None,
        doublecheck: DoublecheckSource | None = None,
        nz_set: NzSetChain | None = None,
        zone: tzinfo | None = None,
        record_chunk: int = RECORD_CHUNK,
    ) -> None:
        if not settings.reports:
            raise ValueError("the merge needs at least one report")
        if record_chunk < 1:
            raise ValueError("record_chunk must be 1 or more")
        self._settings = settings
        self._reports = reports
        self._outputs = outputs
        self._do_not_change = do_not_change
        self._doublecheck = doublecheck
        self._nz_set = nz_set
        self._zone = zone
        self._chunk = record_chunk

    async def run(self, context: RunContext) -> None:
        """O1–O8 (see the module text)."""
        day = context.now().astimezone(self._zone).date()  # B3: local; None is this machine's
        merge = merge_reports(
            (report.parsed.rows for report in await self._parse(context)),
            primary=self._settings.primary,
        )
        tell_merge(context, merge)
        split = split_rows(merge.rows, self._settings.institutions, nz_suffix=self._nz_suffix)
        comparison = compare_035a(split.nz)
        reading = _Reading(self._do_not_change, self._doublecheck, comparison.diff)
        try:
            await self._classify(context, day, merge, split, comparison, reading)
        finally:
            await reading.close()

    async def _classify(
        self,
        context: RunContext,
        day: date,
        merge: Merge,
        split: Split,
        comparison: Comparison,
        reading: _Reading,
    ) -> None:
        """Steps 3 to 6 of the module text, the inputs of 4 being read meanwhile."""
        for path in await self._outputs.write_split(context.out_dir, split):
            await context.add_output(path.name, path)
        path = await self._outputs.write_comparison(context.out_dir, comparison)
        await context.add_output(path.name, path)
        tell_split(context, split, comparison)
        held = await self._held(context, reading)
        if self._doublecheck is None:
            await self._record_ids(context, split, comparison, merge, None, None, held)
            await context.record(NOTE, "classification", RecordOutcome.SKIPPED, NEEDS_DOUBLECHECK)
            context.progress(NEEDS_DOUBLECHECK)
            return
        asked = reading.asked(held)
        rows = await self._read_doublecheck(context, self._doublecheck, asked, reading)
        result = classify(comparison.diff, do_not_change=held, doublecheck=doublecheck_index(rows))
        report = await self._outputs.write_identifier_report(
            context.out_dir, day, result, rows, merge.conflicts
        )
        await context.add_output(report.name, report)
        update = await self._outputs.write_update_files(context.out_dir, result)
        for path in update.all():
            await context.add_output(path.name, path)
        tell_classification(context, result)
        await self._record_ids(context, split, comparison, merge, result, report.name, held)
        ids = set_ids(result).values
        made = await self._make_set(context, ids, day)
        context.progress(left_by_hand(update.for_import.name, made, bool(ids)))

    @property
    def _nz_suffix(self) -> str:
        return self._settings.nz_suffix

    async def _parse(self, context: RunContext) -> list[ReportInput]:
        """O1: each report, named as an input; its skipped lines recorded failed (B2)."""
        parsed: list[ReportInput] = []
        for path in self._settings.reports:
            context.progress(f"reading {path}")
            try:
                report = await self._reports.read(path)
            except UnusableReport as unusable:
                raise RunFailed(unusable.sentence) from None
            except OclcInputRefused as refused:
                raise RunFailed(str(refused)) from None
            await context.add_input(report.name, report.content)
            problems = report.parsed.problems
            if problems:
                await context.record_many(LINE, line_entries(problems))
            symbols = ", ".join(report.parsed.institutions) or "no OCLC symbol"
            context.progress(
                f"{report.name}: {len(report.parsed.rows)} rows ({symbols}), "
                f"{len(problems)} lines skipped"
            )
            parsed.append(ReportInput(report.name, b"", report.parsed))
            del report  # the bytes are done: not held while the next report is read
        return parsed

    async def _held(self, context: RunContext, reading: _Reading) -> frozenset[str]:
        """O6: the do-not-change ids (none without the workbook)."""
        if self._do_not_change is None:
            return frozenset()
        await context.add_input(self._do_not_change.file.name, self._do_not_change.file)
        try:
            ids = await reading.held()
        except OclcInputRefused as refused:
            raise RunFailed(str(refused)) from None
        context.progress(f"{len(ids)} Network Ids on the do-not-change list")
        return ids

    async def _read_doublecheck(
        self,
        context: RunContext,
        source: DoublecheckSource,
        asked: Sequence[str],
        reading: _Reading,
    ) -> tuple[DoublecheckRow, ...]:
        """O5: the doublecheck rows of the DIFF ids not held back."""
        if source.file is not None:
            await context.add_input(source.file.name, source.file)
        context.progress(f"reading the doublecheck of {len(asked)} DIFF ids: {source.description}")
        try:
            rows = await reading.doublecheck()
        except OclcInputRefused as refused:
            raise RunFailed(str(refused)) from None
        except AlmaFailure as error:
            raise RunFailed(
                f"the doublecheck could not be read from {source.description}: {error}"
            ) from None
        context.progress(f"the doublecheck has {len(rows)} rows")
        return rows

    async def _record_ids(
        self,
        context: RunContext,
        split: Split,
        comparison: Comparison,
        merge: Merge,
        classification: Classification | None,
        report_name: str | None,
        held: frozenset[str],
    ) -> None:
        """Every Network Id's record, ``record_chunk`` to a commit (B1)."""
        entries = network_id_entries(
            split,
            comparison,
            merge.conflicts,
            nz_suffix=self._nz_suffix,
            classification=classification,
            report_name=report_name,
            do_not_change=held,
        )
        await record_network_ids(context, entries, self._chunk, len(merge.rows))

    async def _make_set(
        self, context: RunContext, ids: Sequence[str], day: date
    ) -> NzSetResult | None:
        """O8, unless a dry run (B8) or nothing is to be updated by job."""
        chain = self._nz_set
        if chain is None:
            return None
        if context.dry_run:
            context.progress(f"dry run: no set made in {chain.institution} and no job run")
            return None
        if not ids:
            context.progress("no update by job ids: no set made and no job run")
            return None
        try:
            return await chain.run(context, ids, day)
        except AlmaFailure as error:
            raise RunFailed(
                f"the outputs are written to {context.out_dir}, but the NZ set "
                f"(--create-set) stopped: {error}; resume with --resume {context.run_id}"
            ) from None


class _Reading:
    """The do-not-change ids and then the doublecheck rows of the DIFF ids not held back, read
    in tasks from the moment the DIFF rows are known (see the module text). `held` and
    `doublecheck` give each result, or raise its error, where the run comes to it; `close`
    ends what is left (a run that failed before), so no error goes unheard."""

    def __init__(
        self,
        do_not_change: DoNotChangeSource | None,
        doublecheck: DoublecheckSource | None,
        diff: Sequence[ReportRow],
    ) -> None:
        self._diff = diff
        self._held = asyncio.create_task(_ids(do_not_change))
        self._rows = None if doublecheck is None else asyncio.create_task(self._read(doublecheck))

    def asked(self, held: frozenset[str]) -> list[str]:
        """O5: the DIFF ids the doublecheck is asked about, in the DIFF order."""
        return [row.network_id for row in self._diff if row.network_id not in held]

    async def _read(self, source: DoublecheckSource) -> tuple[DoublecheckRow, ...]:
        held = await self._held  # its error is raised by `held`, where the run comes to it
        return await source.rows(self.asked(held))

    async def held(self) -> frozenset[str]:
        return await self._held

    async def doublecheck(self) -> tuple[DoublecheckRow, ...]:
        if self._rows is None:
            raise RuntimeError("no doublecheck source to read")
        return await self._rows

    async def close(self) -> None:
        tasks = [task for task in (self._held, self._rows) if task is not None]
        for task in tasks:
            task.cancel()  # nothing, once done
        await asyncio.gather(*tasks, return_exceptions=True)


async def _ids(source: DoNotChangeSource | None) -> frozenset[str]:
    return frozenset() if source is None else await source.ids()
