"""The three WEST outputs on the local disk (rules H3, H5, B3), and MARC in and out for one
holdings record.

`WestFiles` writes each output under a hidden ``.NAME.part`` beside its final name, appending
records and rows as the use case hands them over (every write in a worker thread, off the event
loop), and renames the three to their final names only once complete. The bytes are those of
`adapters.marc`: the MARCXML is `marcxml_document` of the same records, split at record
boundaries; the MARC 21 file is `iso2709_bytes`; the report is `report_csv` (H5, B3).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Final

from adapters.marc.id_lists import report_csv
from adapters.marc.iso2709 import iso2709_bytes, iso2709_problem
from adapters.marc.marcxml import MarcXmlError, marcxml_document, marcxml_problem
from adapters.marc.marcxml import record_from_alma_marcxml as _parse
from application.west.ports import UnreadableMarc
from domain.shared.marc import MarcRecord
from domain.west.holdings_record import ReportRow, WestOutputNames

__all__ = ["AlmaHoldingMarc", "WestFileSink", "WestFiles", "record_chunk"]

_CLOSING: Final = b"</collection>\n"


class AlmaHoldingMarc:
    """`HoldingMarc` over `adapters.marc`."""

    def parse(self, marcxml: str) -> MarcRecord:
        try:
            return _parse(marcxml)
        except MarcXmlError as error:
            raise UnreadableMarc(str(error)) from None

    def problem(self, record: MarcRecord) -> str | None:
        return marcxml_problem(record) or iso2709_problem(record)


def record_chunk(record: MarcRecord) -> tuple[bytes, bytes]:
    """The part of `marcxml_document` that is this record, and the document's opening (the
    declaration and ``<collection>``): opening + chunks + ``</collection>`` is byte for byte
    `marcxml_document` of the same records."""
    document = marcxml_document([record])
    head_end = document.index(b">\n", document.index(b"<collection")) + 2
    return document[head_end : -len(_CLOSING)], document[:head_end]


class WestFiles:
    """`ExportFiles` on this machine's disk."""

    async def open(self, folder: Path, names: WestOutputNames) -> WestFileSink:
        sink = WestFileSink(folder, names)
        await asyncio.to_thread(sink.start)
        return sink


class WestFileSink:
    """The three files of one run being written (see the module text)."""

    def __init__(self, folder: Path, names: WestOutputNames) -> None:
        self._finals = tuple(folder / name for name in names.all())
        self._parts = tuple(path.with_name(f".{path.name}.part") for path in self._finals)
        self._handles: list[BinaryIO] = []
        self._opened_xml = False

    def start(self) -> None:
        """Open the three temporary files (in a worker thread) and write the report's header."""
        self._handles = [part.open("wb") for part in self._parts]
        self._handles[2].write(report_csv(()))

    async def add(self, records: Sequence[MarcRecord], rows: Sequence[ReportRow]) -> None:
        await asyncio.to_thread(self._append, tuple(records), tuple(rows))

    async def finish(self) -> tuple[Path, Path, Path]:
        await asyncio.to_thread(self._complete)
        xml, mrc, report = self._finals
        return xml, mrc, report

    async def discard(self) -> None:
        await asyncio.to_thread(self._remove)

    def _append(self, records: tuple[MarcRecord, ...], rows: tuple[ReportRow, ...]) -> None:
        xml, mrc, report = self._handles
        for record in records:
            chunk, opening = record_chunk(record)
            if not self._opened_xml:
                xml.write(opening)
                self._opened_xml = True
            xml.write(chunk)
        mrc.write(iso2709_bytes(records))
        if rows:
            header = len(report_csv(()))
            report.write(report_csv(rows)[header:])

    def _complete(self) -> None:
        xml = self._handles[0]
        # No record at all: the document `marcxml_document` writes for none (H5: still written).
        xml.write(_CLOSING if self._opened_xml else marcxml_document(()))
        for handle in self._handles:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        for part, final in zip(self._parts, self._finals, strict=True):
            os.replace(part, final)  # B3: the final name only when complete

    def _remove(self) -> None:
        for handle in self._handles:
            handle.close()
        for part in self._parts:
            part.unlink(missing_ok=True)
