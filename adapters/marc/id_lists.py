"""MMS id sources in, the WEST report CSV out (rules H1, H5, B3).

`read_mms_ids` is the one door to the three file sources of H1: an ISO 2709 bib export, a MARCXML
file or a plain list, told apart by their first bytes unless the caller names the kind. Every
source yields `SourceRecord` entries in input order, a record without an id being an entry with
its problem; cleaning (strip, drop duplicates) is `domain.west.holdings_record.clean_mms_ids`.

The report CSV ends its lines with ``\\r\\n`` (RFC 4180 and the csv module's default, as the SCF
failure reports do), is UTF-8 without a byte-order mark, and quotes only what needs quoting.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal, Protocol

from adapters.marc.iso2709 import FIELD_TERMINATOR, RECORD_TERMINATOR, mms_ids_from_iso2709
from adapters.marc.marcxml import mms_ids_from_marcxml
from domain.shared.marc import SourceRecord

IdSourceKind = Literal["iso2709", "marcxml", "list"]
REPORT_HEADER = ("mms_id", "holding_id", "outcome", "reason")
_BOM = b"\xef\xbb\xbf"


def sniff_id_source(data: bytes) -> IdSourceKind:
    """The kind of an id source from its first bytes: ``<`` opens MARCXML; a five-digit length
    with a MARC 21 leader's ``4500`` or a MARC delimiter anywhere is ISO 2709; anything else,
    empty input included, is a plain list."""
    head = data.removeprefix(_BOM).lstrip()
    if head.startswith(b"<"):
        return "marcxml"
    if data[:5].isdigit() and (
        data[20:24] == b"4500" or RECORD_TERMINATOR in data or FIELD_TERMINATOR in data
    ):
        return "iso2709"
    return "list"


def mms_ids_from_list(data: bytes) -> Iterator[SourceRecord]:
    """Rule H1: one id a line, UTF-8 (a byte-order mark is allowed), ``\\n`` or ``\\r\\n``.

    ``position`` is the line number; blank lines are no records. A line that is not one id (two
    words, control characters, bytes that are not UTF-8) is an entry with its problem.
    """
    for number, raw in enumerate(data.removeprefix(_BOM).split(b"\n"), start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            yield SourceRecord(number, None, f"line {number} is not UTF-8")
            continue
        if not line:
            continue
        if len(line.split()) > 1 or not line.isprintable():
            yield SourceRecord(number, None, f"line {number} is not one MMS id: {line[:40]!r}")
            continue
        yield SourceRecord(number, line)


def mms_ids_from_bytes(data: bytes, kind: IdSourceKind | None = None) -> tuple[SourceRecord, ...]:
    """Rule H1: every entry of an id source of ``kind`` (sniffed when None); see the readers of
    each kind for breaks and records without an id."""
    match kind or sniff_id_source(data):
        case "iso2709":
            return tuple(mms_ids_from_iso2709(data))
        case "marcxml":
            return tuple(mms_ids_from_marcxml(data))
        case _:
            return tuple(mms_ids_from_list(data))


async def read_mms_ids(path: Path, kind: IdSourceKind | None = None) -> tuple[SourceRecord, ...]:
    """Rule H1 for a file: read and parsed in a worker thread, so a 4,000-record export does not
    hold the event loop. A missing file raises `FileNotFoundError` (the caller's B2 sentence)."""
    return await asyncio.to_thread(_read, path, kind)


def _read(path: Path, kind: IdSourceKind | None) -> tuple[SourceRecord, ...]:
    return mms_ids_from_bytes(path.read_bytes(), kind)


class ReportLine(Protocol):
    """What `report_csv` reads of a row (`domain.west.holdings_record.ReportRow` has it)."""

    @property
    def mms_id(self) -> str: ...
    @property
    def holding_id(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def reason(self) -> str: ...


def report_csv(rows: Iterable[ReportLine]) -> bytes:
    """Rule H5: ``mms_id,holding_id,outcome,reason`` and one line per row in the order given
    (`domain.west.holdings_record.ordered_report` sets it); the header alone for no rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REPORT_HEADER)
    for row in rows:
        writer.writerow((row.mms_id, row.holding_id, row.outcome, row.reason))
    return buffer.getvalue().encode("utf-8")
