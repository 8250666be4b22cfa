"""Rules H3, H4, H5 held to the real holdings-record sample
(``shared/reference/alma-api/scriptotek-php-alma-client__holding_response.xml``).

The sample has no 583 (no public holdings record with one was found), so one is added to its
MARCXML text in tag order, and the record is pinned field by field before and after H3.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pymarc
import pytest

from adapters.marc.iso2709 import from_pymarc, iso2709_bytes
from adapters.marc.marcxml import marcxml_document, record_from_alma_marcxml
from domain.shared.marc import ControlField, DataField, MarcRecord, Subfield
from domain.west.holdings_record import KeepDecision, keep_decision, normalise_holding, stamp_005

SAMPLE = "alma-api/scriptotek-php-alma-client__holding_response.xml"
HOLDING_ID = "22163771200002204"
MMS_ID = "99122455086806421"
ADDED_583 = (
    '<datafield ind1="1" ind2=" " tag="583">'
    '<subfield code="a">committed to retain</subfield>'
    '<subfield code="c">20261203</subfield>'
    '<subfield code="d">20351231</subfield>'
    '<subfield code="f">WEST</subfield>'
    "</datafield>"
)

F583 = DataField(
    "583",
    "1",
    " ",
    (
        Subfield("a", "committed to retain"),
        Subfield("c", "20261203"),
        Subfield("d", "20351231"),
        Subfield("f", "WEST"),
    ),
)
DATA_FIELDS = (
    DataField("014", "1", " ", (Subfield("a", "000631221"), Subfield("b", "(NO-TrBIB)"))),
    DataField("035", " ", " ", (Subfield("a", "00kj16342-47bibsys_ubo"),)),
    F583,
    DataField(
        "852",
        "1",
        " ",
        (
            Subfield("b", "1030300"),
            Subfield("c", "k00041"),
            Subfield("h", "839.82"),
            Subfield("i", "Vol:Ban"),
        ),
    ),
    DataField(
        "876",
        " ",
        " ",
        (
            Subfield("a", "00kj16342"),
            Subfield("d", "20000529"),
            Subfield("j", "kat"),
            Subfield("p", "303011kj0"),
            Subfield("r", "00kj16342"),
            Subfield("w", "BOOK"),
        ),
    ),
)


@pytest.fixture
def alma_record(shared_reference: Path) -> MarcRecord:
    """The sample's ``<record>`` as the holdings port hands it over, with the 583 added."""
    document = (shared_reference / SAMPLE).read_text(encoding="utf-8")
    found = re.search(r"<record>.*</record>", document, re.DOTALL)
    assert found is not None
    opening_852 = '<datafield ind1="1" ind2=" " tag="852">'
    text = found.group().replace(opening_852, f"{ADDED_583}\n        {opening_852}", 1)
    assert ADDED_583 in text
    return record_from_alma_marcxml(text)


def test_H3_the_sample_is_read_field_by_field_as_alma_sent_it(alma_record: MarcRecord) -> None:
    assert alma_record.leader == "00384nx  a2200145ui 4500"
    assert alma_record.fields == (
        ControlField("001", "h449730-47bibsys_ubo"),
        ControlField("004", "000631221-47bibsys_ubo"),
        ControlField("007", "ta"),
        ControlField("008", "1511020l||||||||4   uu"),
        ControlField("009", "kat"),
        # Alma's own order: 005 after 009.
        ControlField("005", "20181109134730.0"),
        *DATA_FIELDS,
    )


def test_H3_normalised_with_org_code_and_stamp_field_by_field(alma_record: MarcRecord) -> None:
    stamp = stamp_005(datetime(2026, 12, 3, 14, 5, 9, 730_000))
    after = normalise_holding(
        alma_record, mms_id=MMS_ID, holding_id=HOLDING_ID, org_code="NO-TrBIB", stamp=stamp
    )
    assert after.leader == "00384nx  a2200145ui 4500"
    assert after.fields == (
        ControlField("001", HOLDING_ID),
        ControlField("003", "NO-TrBIB"),
        ControlField("004", MMS_ID),
        ControlField("005", "20261203140509.0"),
        ControlField("007", "ta"),
        ControlField("008", "1511020l||||||||4   uu"),
        ControlField("009", "kat"),
        *DATA_FIELDS,
    )


def test_H3_normalised_without_org_code_or_stamp_keeps_alma_s_005(
    alma_record: MarcRecord,
) -> None:
    after = normalise_holding(
        alma_record, mms_id=MMS_ID, holding_id=HOLDING_ID, org_code=None, stamp=None
    )
    assert after.fields == (
        ControlField("001", HOLDING_ID),
        ControlField("004", MMS_ID),
        ControlField("005", "20181109134730.0"),
        ControlField("007", "ta"),
        ControlField("008", "1511020l||||||||4   uu"),
        ControlField("009", "kat"),
        *DATA_FIELDS,
    )


def test_H4_the_sample_is_kept_with_its_583_and_skipped_without(alma_record: MarcRecord) -> None:
    assert keep_decision(alma_record) == KeepDecision(keep=True)
    without = alma_record.with_fields(f for f in alma_record.fields if f.tag != "583")
    assert keep_decision(without) == KeepDecision(keep=False, reason="no 583")


def test_H5_the_normalised_sample_survives_both_outputs(alma_record: MarcRecord) -> None:
    after = normalise_holding(
        alma_record, mms_id=MMS_ID, holding_id=HOLDING_ID, org_code="NO-TrBIB", stamp="s.0"
    )
    [read] = [from_pymarc(r) for r in pymarc.MARCReader(iso2709_bytes([after])) if r]
    assert read.fields == after.fields
    document = marcxml_document([after]).decode("utf-8")
    record_text = re.search(r"<record>.*</record>", document, re.DOTALL)
    assert record_text is not None
    assert record_from_alma_marcxml(record_text.group()) == after
