"""The narrow ports of the OCLC data-sync merge (rules O1, O3–O7, B3): where the reports, the
do-not-change list and the doublecheck come from, and where the outputs go.

Alma itself is reached through the shared role ports: `AnalyticsReports` behind an Analytics
`DoublecheckSource` (O5), `ItemizedSets` and `JobInstances` for the NZ set and its job (O8).

Every input that cannot be used at all is refused with one sentence naming it: a report with
`domain.oclc.report_rows.UnusableReport`, anything else (a file gone, a workbook without its
column, a misaligned doublecheck) with `domain.oclc.doublecheck.OclcInputRefused`. The use case
ends the run ``failed`` with that sentence (B2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from domain.oclc.classification import Classification
from domain.oclc.comparison import Comparison
from domain.oclc.doublecheck import DoublecheckRow
from domain.oclc.merge import Conflict
from domain.oclc.report_rows import ParsedReport
from domain.oclc.split import Split

__all__ = [
    "DoNotChangeSource",
    "DoublecheckSource",
    "OclcOutputs",
    "ReportInput",
    "ReportSource",
    "UpdateFiles",
]


@dataclass(frozen=True)
class ReportInput:
    """One bib processing report as read (O1): the name the run records it under, its bytes
    (for the input's sha256, B1/B5) and its rows and skipped lines."""

    name: str
    content: bytes
    parsed: ParsedReport


class ReportSource(Protocol):
    """Reads the bib processing reports named by ``--report`` (O1)."""

    async def read(self, path: Path) -> ReportInput:
        """The report at ``path``; `UnusableReport` (empty, not UTF-8, an exception report) or
        `OclcInputRefused` (the file is gone or unreadable), each with one sentence."""
        ...


class DoNotChangeSource(Protocol):
    """The do-not-change workbook (O6): Network Ids never batch-updated."""

    @property
    def file(self) -> Path:
        """The workbook, named as a run input (B1)."""
        ...

    async def ids(self) -> frozenset[str]:
        """Its Network Ids, as text; `OclcInputRefused` naming the file otherwise."""
        ...


class DoublecheckSource(Protocol):
    """What the Network Zone's Analytics knows of the DIFF ids (O5): an xlsx export or the
    Analytics API."""

    @property
    def description(self) -> str:
        """How the operator named it: ``--doublecheck F.xlsx``, ``Analytics report P of CODE``."""
        ...

    @property
    def file(self) -> Path | None:
        """The export file, named as a run input (B1); None for Analytics."""
        ...

    async def rows(self, network_ids: Sequence[str]) -> tuple[DoublecheckRow, ...]:
        """The doublecheck rows for ``network_ids`` (an export may hold more; they are never
        asked about). `OclcInputRefused` for a table that cannot be read right (a missing or
        misaligned column); Alma's errors (`application.shared.alma.AlmaFailure`) as they come."""
        ...


@dataclass(frozen=True)
class UpdateFiles:
    """The three files of the ``update by job`` rows (O7), as written."""

    set_ids: Path
    """``a_to_z_MMSid_for_set.txt``"""
    numbers: Path
    """``oclc_numbers_updated.txt``"""
    for_import: Path
    """``for_import_to_NZ.xlsx``"""

    def all(self) -> tuple[Path, Path, Path]:
        return (self.set_ids, self.numbers, self.for_import)


class OclcOutputs(Protocol):
    """Where the outputs are written (O3, O4, O7): each file appears under its final name only
    when complete (B3), written off the event loop."""

    async def write_split(self, folder: Path, split: Split) -> tuple[Path, ...]:
        """``bibprocessmerged.csv``, each ``{code}bibprocess.csv`` with a row, and
        ``unknown_suffix.csv`` when a row has an unknown suffix (O3)."""
        ...

    async def write_comparison(self, folder: Path, comparison: Comparison) -> Path:
        """``comparison_file_IZ.xlsx``, sheets ``DIFF`` and ``SAME`` (O4)."""
        ...

    async def write_identifier_report(
        self,
        folder: Path,
        day: date,
        classification: Classification,
        doublecheck: Sequence[DoublecheckRow],
        conflicts: Sequence[Conflict],
    ) -> Path:
        """``NZ-OCLC-Identifier-report_{day}.xlsx``: a sheet per O6 sheet (the doublecheck's
        values beside the rows it knows) and ``conflicts``, every row of every conflict (O2)."""
        ...

    async def write_update_files(self, folder: Path, classification: Classification) -> UpdateFiles:
        """``a_to_z_MMSid_for_set.txt``, ``oclc_numbers_updated.txt`` and
        ``for_import_to_NZ.xlsx`` of the ``update by job`` rows (O7)."""
        ...
