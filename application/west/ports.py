"""The narrow ports of the WEST holdings export (rules H1, H3, H5, B3): where the MMS ids come
from, how a holdings record's MARCXML becomes the domain's record, and where the three outputs
go. Alma itself is reached through the shared role ports (`HoldingsReader`, `SetMembers`, H2)
and the upload through the shared `FileTransfer` (B3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from domain.shared.marc import MarcRecord, SourceRecord
from domain.west.holdings_record import ReportRow, WestOutputNames

__all__ = [
    "ExportFiles",
    "ExportSink",
    "HoldingMarc",
    "IdInput",
    "IdSourceMissing",
    "MmsIdSource",
    "UnreadableMarc",
]


@dataclass(frozen=True)
class IdInput:
    """An MMS id source as read (rule H1): the name the run records it under with its sha256
    (``content``: B1, and B5 refuses a resume whose input changed), and its entries in input
    order, a record without an id being an entry with its problem."""

    name: str
    content: bytes
    entries: tuple[SourceRecord, ...]


class IdSourceMissing(Exception):
    """The source cannot be read at all (a file gone, a set Alma does not know): the run ends
    failed with this one sentence (rule B2)."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class MmsIdSource(Protocol):
    """One of H1's four sources: a binary MARC export, a MARCXML file, a plain list, a set."""

    @property
    def description(self) -> str:
        """How the operator named it: ``--mrc /data/west.mrc``, ``--set 1234``."""
        ...

    async def read(self) -> IdInput:
        """Every entry; `IdSourceMissing` when there is no source to read."""
        ...


class UnreadableMarc(Exception):
    """A holdings record's MARCXML cannot be read as a MARC record; the message says why."""


class HoldingMarc(Protocol):
    """MARC in and out for one holdings record (rules H3, H5)."""

    def parse(self, marcxml: str) -> MarcRecord:
        """The record of Alma's ``<record>`` text; `UnreadableMarc` says what is wrong."""
        ...

    def problem(self, record: MarcRecord) -> str | None:
        """Why the record cannot be written to the MARCXML or the MARC 21 output (a character
        XML cannot carry, a field too long for ISO 2709), naming the field; None when it can.
        Asked before writing, so that only that record fails (B2)."""
        ...


class ExportSink(Protocol):
    """The three outputs of one run being written, in order (rule H5), under temporary names."""

    async def add(self, records: Sequence[MarcRecord], rows: Sequence[ReportRow]) -> None:
        """Append records to the MARCXML and MARC 21 files and rows to the report."""
        ...

    async def finish(self) -> tuple[Path, Path, Path]:
        """Close the files and give each its final name (B3); returns the XML, MARC 21 and
        report paths, in `WestOutputNames` order."""
        ...

    async def discard(self) -> None:
        """Remove what was written: nothing appears under a final name (B3)."""
        ...


class ExportFiles(Protocol):
    """Where a run's three outputs are written (rules H5, B3, B8)."""

    async def open(self, folder: Path, names: WestOutputNames) -> ExportSink:
        """Start writing the three files into ``folder``; none exists under its final name
        before `ExportSink.finish`."""
        ...
