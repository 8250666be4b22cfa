"""Small records for the aspace2alma rule tests: the fields every record needs (008, 040, 041,
099, 245, 856) plus the ones a test is about."""

from __future__ import annotations

from collections.abc import Iterable

from domain.aspace.containers import TopContainer
from domain.aspace.transform import Transformed, transform_record
from domain.shared.aspace_rules import PRINCETON_RULES, AspaceRules
from domain.shared.marc import ControlField, DataField, Field, MarcRecord, Subfield

LEADER = "00000npcaa2200000 u 4500"
FIXED = "221215i19171950xx                  eng d"
CALL_NUMBER = "MC001.01"
ARK = "http://arks.princeton.edu/ark:/88435/rj430454b"


def df(tag: str, ind: str = "  ", *pairs: tuple[str, str]) -> DataField:
    """A data field: ``df("650", " 0", ("a", "Law"))``."""
    return DataField(tag, ind[0], ind[1], tuple(Subfield(c, v) for c, v in pairs))


def link() -> DataField:
    return df("856", "42", ("z", "Finding aid online:"), ("u", ARK))


def record(
    *extra: Field,
    call_number: str | None = CALL_NUMBER,
    fixed: str | None = FIXED,
    language: bool = True,
    finding_aid: bool = True,
) -> MarcRecord:
    """An ArchivesSpace-like record with ``extra`` between its 245 and its 856."""
    fields: list[Field] = []
    if fixed is not None:
        fields.append(ControlField("008", fixed))
    fields.append(df("040", "  ", ("b", "eng"), ("e", "Describing Archives.")))
    if language:
        fields.append(df("041", "  ", ("a", "eng")))
    if call_number is not None:
        fields.append(df("099", "  ", ("a", call_number)))
    fields.append(df("245", "10", ("a", "Records,"), ("f", "1917-1950")))
    fields.extend(extra)
    if finding_aid:
        fields.append(link())
    return MarcRecord(LEADER, tuple(fields))


def transformed(
    source: MarcRecord,
    containers: Iterable[TopContainer] = (),
    known: Iterable[str] = (),
    rules: AspaceRules = PRINCETON_RULES,
) -> Transformed:
    result = transform_record(source, tuple(containers), frozenset(known), rules)
    assert isinstance(result, Transformed), result
    return result


def out(source: MarcRecord, *, rules: AspaceRules = PRINCETON_RULES) -> MarcRecord:
    """The transformed record (no containers)."""
    return transformed(source, rules=rules).record


def tags(r: MarcRecord) -> list[str]:
    return [f.tag for f in r.fields]


def fields(r: MarcRecord, tag: str) -> list[DataField]:
    return [f for f in r.data_fields if f.tag == tag]


def pairs(field: DataField) -> list[tuple[str, str]]:
    return [(s.code, s.value) for s in field.subfields]


def container(
    barcode: str = "32101106176132",
    indicator: str = "2477",
    location: str = "scarcpph",
    kind: str = "volume",
) -> TopContainer:
    return TopContainer(
        f"/repositories/3/top_containers/{indicator or 0}", barcode, kind, indicator, location
    )
