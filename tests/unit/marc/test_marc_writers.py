"""Writing MARCXML, ISO 2709 and the report CSV (rules H5, B3)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pymarc
import pytest

from adapters.marc.id_lists import report_csv
from adapters.marc.iso2709 import (
    Iso2709Error,
    from_pymarc,
    iso2709_bytes,
    iso2709_problem,
    read_iso2709,
    to_pymarc,
)
from adapters.marc.marcxml import (
    MARC_NAMESPACE,
    MarcXmlError,
    marcxml_document,
    marcxml_problem,
    record_from_element,
)
from domain.shared.marc import ControlField, DataField, MarcRecord, Subfield
from domain.west.holdings_record import ReportRow

NS = f"{{{MARC_NAMESPACE}}}"
LEADER = "00000nx  a2200000ui 4500"


def holding(control_number: str, *subfields: tuple[str, str]) -> MarcRecord:
    return MarcRecord(
        LEADER,
        (
            ControlField("001", control_number),
            ControlField("004", "991"),
            ControlField("008", "1511020l||||||||4   uu"),
            DataField("583", "1", " ", tuple(Subfield(c, v) for c, v in subfields)),
            DataField("852", "0", "1", (Subfield("b", "MAIN"),)),
        ),
    )


# Writing MARCXML (H5, B3) ---------------------------------------------------------------------


def test_H5_marcxml_has_a_declaration_the_namespace_and_fields_in_order() -> None:
    records = [holding("h1", ("a", "keep")), holding("h2", ("a", "keep"))]
    document = marcxml_document(records)
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(document)  # noqa: S314 - our own output
    assert root.tag == f"{NS}collection"
    parsed = list(root)
    assert [r.tag for r in parsed] == [f"{NS}record"] * 2
    children = [c.tag.removeprefix(NS) for c in parsed[0]]
    assert children == ["leader"] + ["controlfield"] * 3 + ["datafield"] * 2
    assert [c.get("tag") for c in parsed[0]][1:] == ["001", "004", "008", "583", "852"]
    assert [record_from_element(r) for r in parsed] == records


def test_H5_ampersands_and_angle_brackets_survive_marcxml() -> None:
    record = holding("h&1", ("a", "Tom & Jerry <1957> \"q\" 'a'"), ("&", "x"))
    document = marcxml_document([record])
    assert b"Tom &amp; Jerry &lt;1957&gt;" in document
    [parsed] = list(ET.fromstring(document))  # noqa: S314 - our own output
    assert record_from_element(parsed) == record


def test_H5_marcxml_is_byte_identical_for_the_same_records_and_written_for_none() -> None:
    records = [holding("h1", ("a", "x"))]
    assert marcxml_document(records) == marcxml_document(list(records))
    empty = marcxml_document([])
    assert ET.fromstring(empty).tag == f"{NS}collection"  # noqa: S314 - our own output


def test_H5_marcxml_leader_09_says_unicode() -> None:
    record = MarcRecord("00000nx   2200000ui 4500", (ControlField("001", "h"),))
    [parsed] = list(ET.fromstring(marcxml_document([record])))  # noqa: S314 - our own output
    assert record_from_element(parsed).leader[9] == "a"


def test_H5_a_character_xml_cannot_carry_is_named_before_writing() -> None:
    record = holding("h1", ("a", "esc\x1bape"))
    assert marcxml_problem(record) == "record h1: field 583 $a holds U+001B, which XML cannot carry"
    assert marcxml_problem(holding("h2", ("a", "fine"))) is None
    with pytest.raises(MarcXmlError, match="U\\+001B"):
        marcxml_document([record])


# Writing ISO 2709 (H5, B3) --------------------------------------------------------------------


def test_H5_iso2709_round_trips_through_pymarc() -> None:
    records = [holding("h1", ("a", "Café & <co>")), holding("h2", ("a", "Æsop"), ("z", ""))]
    data = iso2709_bytes(records)
    read = [from_pymarc(r) for r in pymarc.MARCReader(data, to_unicode=True) if r is not None]
    assert [r.fields for r in read] == [r.fields for r in records]
    assert all(r.leader[9] == "a" for r in read)
    assert [r.leader[5:9] + r.leader[17:] for r in read] == ["nx  ui 4500"] * 2
    assert [e.record for e in read_iso2709(data)] == read


def test_H5_iso2709_is_utf8_and_byte_identical_for_the_same_records() -> None:
    records = [holding("h1", ("a", "Café"))]
    data = iso2709_bytes(records)
    assert data == iso2709_bytes(tuple(records))
    assert data[9:10] == b"a"
    assert "Café".encode() in data
    assert int(data[:5]) == len(data)
    assert iso2709_bytes([]) == b""


def test_H5_what_iso2709_cannot_carry_is_named() -> None:
    delimiter = holding("h1", ("a", "a\x1fb"))
    assert iso2709_problem(delimiter) == "record h1: field 583 $a holds an ISO 2709 delimiter byte"
    assert iso2709_problem(holding("h1", ("a", "x"))) is None
    with pytest.raises(Iso2709Error, match="field 583 is"):
        iso2709_bytes([holding("h2", ("a", "x" * 10_000))])


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (MarcRecord("00000nx  a2200000ui 450é"), "a record without 001: the leader"),
        (
            MarcRecord(LEADER, (ControlField("001", "h"), ControlField("00é", "x"))),
            "record h: tag '00é' is not ASCII",
        ),
        (
            MarcRecord(LEADER, (DataField("852", "é", " "),)),
            "a record without 001: field 852 has indicators 'é '",
        ),
        (
            MarcRecord(LEADER, (DataField("852", " ", " ", (Subfield("é", "x"),)),)),
            "a record without 001: field 852 $é: the subfield code is not ASCII",
        ),
        (
            MarcRecord(LEADER, (DataField("852", " ", " ", (Subfield("a", "x" * 9_000),)),) * 12),
            "a record without 001 is 108",
        ),
    ],
)
def test_H5_iso2709_refuses_what_readers_could_not_frame(record: MarcRecord, problem: str) -> None:
    found = iso2709_problem(record)
    assert found is not None
    assert found.startswith(problem)


def test_H5_fields_are_written_by_their_kind_not_their_tag() -> None:
    odd = MarcRecord(LEADER, (ControlField("001", "h"), ControlField("FMT", "HO")))
    assert b"\x1eHO\x1e\x1d" in iso2709_bytes([odd])


def test_pymarc_conversion_keeps_every_field() -> None:
    record = holding("h1", ("a", "x"), ("b", "y"))
    assert from_pymarc(to_pymarc(record)) == record


# The report CSV (H5) --------------------------------------------------------------------------


def test_H5_the_report_has_its_header_crlf_lines_and_quotes_what_needs_it() -> None:
    rows = [
        ReportRow("991", "221", "ok"),
        ReportRow("991", "222", "skipped", "no 583"),
        ReportRow.for_bib("992", "failed", 'Alma said "no", twice'),
        ReportRow.for_bib("993", "skipped", "no holdings: Café"),
    ]
    expected = (
        "mms_id,holding_id,outcome,reason\r\n"
        "991,221,ok,\r\n"
        "991,222,skipped,no 583\r\n"
        '992,,failed,"Alma said ""no"", twice"\r\n'
        "993,,skipped,no holdings: Café\r\n"
    )
    assert report_csv(rows) == expected.encode("utf-8")
    assert report_csv([]) == b"mms_id,holding_id,outcome,reason\r\n"
