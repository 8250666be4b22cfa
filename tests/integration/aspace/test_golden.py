"""The aspace2alma golden test (AS4): upstream's fixtures through `read_resource_marcxml`,
`transform_record` and `MarcOutFiles`, compared with upstream's expected ``MARC_out.xml``.

``doc_after_processing.xml`` is what pulibrary/lib_jobs writes for resource 1511 when every
barcode is already in Alma. Upstream's file keeps its string templates' indentation for the
fields rules 4, 5, 6 and 12 insert (035, 040, 046, 856); this writer indents every field alike,
so the files are compared as canonical XML (whitespace between elements stripped) and, to catch
what stripping would hide (spaces at the ends of a value), record by record through the MARC
model. Every other byte is checked too: outside those four fields the files are equal.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from adapters.aspace.marc_out import COLLECTION_START, MarcOutFiles
from adapters.aspace.resource_marcxml import read_resource_marcxml
from adapters.marc.marcxml import record_from_element
from domain.aspace.containers import TopContainer
from domain.aspace.transform import Transformed, transform_record
from domain.shared.aspace_rules import PRINCETON_RULES
from domain.shared.marc import DataField, MarcRecord, Subfield

TEMPLATE_TAGS = ("035", "040", "046", "856")


@pytest.fixture
def reference(shared_reference: Path) -> Path:
    return shared_reference / "aspace2alma"


def _resource(reference: Path, number: int) -> MarcRecord:
    data = (reference / f"marc_{number}.xml").read_bytes()
    return read_resource_marcxml(data, resource=f"/repositories/3/resources/{number}")


def _single_container(reference: Path) -> TopContainer:
    doc = json.loads((reference / "single_container.json").read_text("utf-8"))
    container = json.loads(doc["json"])
    location = container["container_locations"][0]["_resolved"]["classification"]
    return TopContainer(
        container["uri"],
        container["barcode"],
        container["type"],
        container["indicator"],
        location,
    )


def _transform(record: MarcRecord, containers: list[TopContainer]) -> Transformed:
    known = frozenset(c.barcode for c in containers)  # every barcode already in Alma
    result = transform_record(record, containers, known, PRINCETON_RULES)
    assert isinstance(result, Transformed), result
    return result


async def _write(folder: Path, records: list[MarcRecord]) -> bytes:
    sink = await MarcOutFiles().open(folder)
    for record in records:
        await sink.add(record)
    return (await sink.finish()).read_bytes()


def _records(document: bytes) -> list[MarcRecord]:
    return [record_from_element(child) for child in ET.fromstring(document)]  # noqa: S314 - test files


def _without_template_fields(document: bytes) -> list[str]:
    """The document's lines outside the four fields upstream indents by its templates."""
    lines: list[str] = []
    skipping = False
    for line in document.decode("utf-8").split("\n"):
        if any(f'tag="{tag}"' in line and "<datafield" in line for tag in TEMPLATE_TAGS):
            skipping = True
        if not skipping:
            lines.append(line)
        if skipping and "</datafield>" in line:
            skipping = False
    return lines


async def test_AS4_marc_1511_with_every_barcode_known_gives_the_golden_document(
    reference: Path, tmp_path: Path
) -> None:
    container = _single_container(reference)
    result = _transform(_resource(reference, 1511), [container])
    assert result.items == ()  # rule 14 ran on a ReCAP container and added nothing
    written = await _write(tmp_path, [result.record])
    golden = (reference / "doc_after_processing.xml").read_bytes()

    assert ET.canonicalize(written.decode(), strip_text=True) == ET.canonicalize(
        golden.decode(), strip_text=True
    )
    assert _records(written) == _records(golden)
    assert written.startswith(COLLECTION_START + b"<record>")
    assert _without_template_fields(written) == _without_template_fields(golden)


async def test_AS4_the_same_container_when_new_becomes_the_one_949(
    reference: Path, tmp_path: Path
) -> None:
    container = _single_container(reference)
    result = transform_record(_resource(reference, 1511), [container], (), PRINCETON_RULES)
    assert isinstance(result, Transformed)
    (written,) = _records(await _write(tmp_path, [result.record]))
    assert written.fields[-2:] == (
        DataField("982", " ", " ", (Subfield("c", "scarcpph"),)),
        DataField(
            "949",
            " ",
            " ",
            (
                Subfield("a", "32101106176132"),
                Subfield("b", "volume 2477"),
                Subfield("c", "scarcpph"),
                Subfield("d", "(PULFA)MC001.01"),
            ),
        ),
    )


async def test_AS4_marc_1511_and_1512_give_their_035s_in_order(
    reference: Path, tmp_path: Path
) -> None:
    records = [_transform(_resource(reference, n), []).record for n in (1511, 1512)]
    written = _records(await _write(tmp_path, records))
    assert [r.data_fields[0] for r in written] == [
        DataField("035", " ", " ", (Subfield("a", "(PULFA)MC001.01"),)),
        DataField("035", " ", " ", (Subfield("a", "(PULFA)MC001.02.01"),)),
    ]
    assert [r.control("001") for r in written] == ["MC001.01", "MC001.02.01"]


async def test_AS4_the_output_keeps_ampersand_less_than_and_accented_values(
    reference: Path, tmp_path: Path
) -> None:
    source = _resource(reference, 1512)
    tricky = DataField("650", " ", "0", (Subfield("a", "Smith & <Sons> -- Montréal"),))
    source = source.with_fields((*source.fields, tricky))
    box = TopContainer("/tc/1", "B&<é", "box", "1 & <2>", "scarcpph")
    result = _transform(source, [])
    with_item = transform_record(source, [box], (), PRINCETON_RULES)
    assert isinstance(with_item, Transformed)
    written = await _write(tmp_path, [result.record, with_item.record])

    plain, itemised = _records(written)  # parses: the escaping is right
    assert plain == result.record
    assert itemised == with_item.record
    heading = next(f for f in plain.data_fields if f.values("a") == ("Smith & <Sons>",))
    assert heading.values("x") == ("Montréal",)
    assert itemised.data_fields[-1].values("a") == ("B&<é",)
    assert itemised.data_fields[-1].values("b") == ("box 1 & <2>",)
    assert "Montréal".encode() in written
