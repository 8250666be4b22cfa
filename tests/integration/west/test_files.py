"""`WestFiles` on a real disk (rules H5, B3): streamed in pieces, the three files are byte for
byte what `adapters.marc` writes for the whole run at once, and appear only when complete."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from adapters.marc.id_lists import report_csv
from adapters.marc.iso2709 import iso2709_bytes
from adapters.marc.marcxml import marcxml_document
from adapters.west.export_files import AlmaHoldingMarc, WestFiles
from domain.shared.marc import ControlField, DataField, MarcRecord, Subfield
from domain.west.holdings_record import ReportRow, output_names
from tests.integration.west.support import holding_xml

LEADER = "00384nx  a2200145ui 4500"


def _record(number: int) -> MarcRecord:
    return MarcRecord(
        LEADER,
        (
            ControlField("001", f"22{number}"),
            ControlField("004", f"99{number}"),
            DataField("583", "1", " ", (Subfield("a", f"retain & keep <{number}> ✓"),)),
        ),
    )


async def test_H5_B3_streamed_outputs_equal_the_whole_run_written_at_once(tmp_path: Path) -> None:
    records = [_record(n) for n in range(5)]
    rows = [ReportRow("", "", "failed", "record 3, at byte 7")] + [
        ReportRow(f"99{n}", f"22{n}", "ok") for n in range(5)
    ]
    names = output_names("wau", date(2026, 1, 1))

    sink = await WestFiles().open(tmp_path, names)
    await sink.add((), rows[:1])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f".{n}.part" for n in names.all())
    await sink.add(records[:2], rows[1:3])
    await sink.add(records[2:], rows[3:])
    xml, mrc, report = await sink.finish()

    assert xml.read_bytes() == marcxml_document(records)
    assert mrc.read_bytes() == iso2709_bytes(records)
    assert report.read_bytes() == report_csv(rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names.all())  # no part left


async def test_H5_with_no_record_kept_the_three_files_are_still_written(tmp_path: Path) -> None:
    names = output_names("asu", date(2026, 1, 1))
    sink = await WestFiles().open(tmp_path, names)
    xml, mrc, report = await sink.finish()

    assert xml.read_bytes() == marcxml_document(())
    assert mrc.read_bytes() == b""
    assert report.read_bytes() == b"mms_id,holding_id,outcome,reason\r\n"


async def test_B3_a_discarded_export_leaves_nothing(tmp_path: Path) -> None:
    names = output_names("wau", date(2026, 1, 1))
    sink = await WestFiles().open(tmp_path, names)
    await sink.add([_record(1)], [ReportRow("991", "221", "ok")])
    await sink.discard()

    assert list(tmp_path.iterdir()) == []


def test_H3_the_codec_reads_Alma_s_record_and_names_what_an_output_cannot_carry() -> None:
    marc = AlmaHoldingMarc()
    record = marc.parse(holding_xml("ABRS", "stacks", retention="keep"))
    assert record.control("001") == "h-migrated"
    assert marc.problem(record) is None
    bad = record.with_control_field("009", "bell\x07")
    assert marc.problem(bad) == "record h-migrated: field 009 holds U+0007, which XML cannot carry"
