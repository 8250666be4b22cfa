"""MARCXML in and out for aspace2alma: the resource reader and the MARC_out.xml writer (AS4,
AS6, B3), and values with ``&``, ``<`` and non-ASCII characters kept end to end."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from adapters.aspace.marc_out import (
    COLLECTION_END,
    COLLECTION_START,
    MarcOutFiles,
    marc_out_document,
    record_xml,
)
from adapters.aspace.resource_marcxml import ResourceMarcError, read_resource_marcxml
from adapters.marc.marcxml import MarcXmlError, record_from_element
from domain.shared.marc import MarcRecord
from tests.unit.aspace.records import LEADER, container, df, fields, pairs, record, transformed

RESOURCE = "/repositories/3/resources/1511"
SLIM = "http://www.loc.gov/MARC21/slim"
ONE = (
    f'<collection xmlns="{SLIM}"><record><leader>{LEADER}</leader>'
    '<controlfield tag="008">x</controlfield>'
    '<datafield tag="099" ind1=" " ind2=" "><subfield code="a">MC1</subfield></datafield>'
    "</record></collection>"
)


def _read_back(document: bytes) -> list[MarcRecord]:
    root = ET.fromstring(document)  # noqa: S314 - our own output
    return [record_from_element(child) for child in root]


def test_AS4_values_with_ampersand_less_than_and_accents_are_kept() -> None:
    tricky = "Smith & Sons <Ltd> « Éditions » — 東京"
    source = record(
        df("650", " 0", ("a", f"{tricky} -- 20th century")),
        df("500", "  ", ("a", "Location of resource: scarcpph.")),
    )
    result = transformed(source, [container("321&<é", indicator="Box <1> & é")])
    document = marc_out_document([result.record])
    assert _read_back(document) == [result.record]
    assert pairs(fields(result.record, "650")[0])[0] == ("a", tricky)
    assert b"Smith &amp; Sons &lt;Ltd&gt;" in document
    assert "東京".encode() in document  # UTF-8 as is, not character references


def test_AS6_the_document_is_upstreams_opening_tag_records_and_closing_tag() -> None:
    first, second = record(), record(call_number="MC002")
    document = marc_out_document([first, second])
    assert document.startswith(COLLECTION_START + b"<record>\n  <leader>")
    assert b"</record><record>" in document
    assert document.endswith(b"</record>" + COLLECTION_END)
    assert COLLECTION_START.startswith(b'<collection xmlns="http://www.loc.gov/MARC21/slim" ')
    assert _read_back(document) == [first, second]


def test_AS6_datafield_attributes_in_upstreams_order_and_empty_values_kept() -> None:
    chunk = record_xml(MarcRecord(LEADER, (df("949", "  ", ("b", "")),))).decode()
    assert '<datafield ind1=" " ind2=" " tag="949">' in chunk
    assert '<subfield code="b"></subfield>' in chunk


def test_AS6_a_carriage_return_survives_as_a_character_reference() -> None:
    source = MarcRecord(LEADER, (df("500", "  ", ("a", "a\rb")),))
    assert _read_back(marc_out_document([source])) == [source]


def test_AS6_a_value_xml_cannot_carry_is_refused_naming_the_field() -> None:
    with pytest.raises(MarcXmlError, match=r"field 500 \$a holds U\+000B"):
        record_xml(MarcRecord(LEADER, (df("500", "  ", ("a", "a\x0bb")),)))


async def test_B3_the_file_has_its_final_name_only_once_finished(tmp_path: Path) -> None:
    sink = await MarcOutFiles().open(tmp_path)
    await sink.add(record())
    assert not (tmp_path / "MARC_out.xml").exists()
    assert sink.temporary.read_bytes().startswith(COLLECTION_START + b"<record>")
    path = await sink.finish()
    assert path == tmp_path / "MARC_out.xml"
    assert path.read_bytes() == marc_out_document([record()])
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(RuntimeError, match="not being written"):
        await sink.add(record())


async def test_B3_discard_removes_the_temporary_and_leaves_an_older_file(tmp_path: Path) -> None:
    (tmp_path / "MARC_out.xml").write_bytes(b"yesterday")
    sink = await MarcOutFiles().open(tmp_path, "MARC_out.xml")
    await sink.add(record())
    await sink.discard()
    await sink.discard()
    assert [p.name for p in tmp_path.iterdir()] == ["MARC_out.xml"]
    assert (tmp_path / "MARC_out.xml").read_bytes() == b"yesterday"


async def test_B3_an_empty_collection_is_still_a_document(tmp_path: Path) -> None:
    sink = await MarcOutFiles().open(tmp_path, "empty.xml")
    path = await sink.finish()
    assert path.read_bytes() == COLLECTION_START + COLLECTION_END


@pytest.mark.parametrize(
    "document",
    [
        ONE,
        ONE.replace("<", "<marc:").replace("<marc:/", "</marc:").replace('xmlns="', 'xmlns:marc="'),
    ],
    ids=["default-namespace", "marc-prefix"],
)
def test_AS4_the_resource_record_is_read_with_either_namespace_form(document: str) -> None:
    read = read_resource_marcxml(document.encode(), resource=RESOURCE)
    assert read.control("008") == "x"
    assert pairs(read.data_fields[0]) == [("a", "MC1")]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"<collection><record>", "not well-formed"),
        (b"", "not well-formed"),
        (f'<collection xmlns="{SLIM}"/>'.encode(), "holds no <record>"),
        (ONE.replace("</record>", "</record><record/>").encode(), "holds 2 records, not one"),
        (b"<bibs/>", "expected a MARCXML <collection>"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><collection/>', "DOCTYPE or ENTITY"),
        (ONE.replace(LEADER, "short").encode(), "leader"),
    ],
    ids=["broken", "empty", "no-record", "two-records", "other-root", "entity", "bad-leader"],
)
def test_AS5_unreadable_resource_marcxml_is_a_typed_error_naming_the_resource(
    data: bytes, problem: str
) -> None:
    with pytest.raises(ResourceMarcError, match=problem) as caught:
        read_resource_marcxml(data, resource=RESOURCE)
    assert caught.value.resource == RESOURCE
    assert str(caught.value).startswith(f"resource {RESOURCE}: ")
    assert isinstance(caught.value, ValueError)
