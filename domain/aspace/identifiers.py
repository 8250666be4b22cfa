"""The call number and the identifiers the aspace2alma transform adds (research §a rules 3–6),
and the fields those rules cannot do without (AS5)."""

from __future__ import annotations

from typing import Final

from domain.aspace.cleanup import drop_empty, join_lines
from domain.aspace.fields import data_field, first_index, first_subfield_value, insert_at
from domain.shared.aspace_rules import AspaceRules
from domain.shared.marc import ControlField, DataField, MarcRecord

CALL_NUMBER_TAG: Final = "099"
DATE_TYPE: Final = "i"
"""Rule 6: 046 $a, upstream's literal (008/06 of an ArchivesSpace export is ``i``, inclusive)."""


def call_number(record: MarcRecord) -> str | None:
    """099 $a as rules 3, 4, 14 and 17 read it: the first 099 $a once rules 1 and 2 ran (a blank
    one is gone, line breaks are spaces); None when there is none."""
    return first_subfield_value(join_lines(drop_empty(record)), CALL_NUMBER_TAG, "a")


def missing_fields(record: MarcRecord) -> tuple[str, ...]:
    """AS5: which of 008, 041 and 099 $a the (rule 1 and 2 cleaned) record lacks. Upstream raises
    on any of them (rules 3, 4 and 6 dereference them) and the whole job uploads nothing."""
    missing: list[str] = []
    if first_index(record, "008", ControlField) is None:
        missing.append("008")
    if first_index(record, "041", DataField) is None:
        missing.append("041")
    if first_subfield_value(record, CALL_NUMBER_TAG, "a") is None:
        missing.append("099 $a")
    return tuple(missing)


def add_control_numbers(record: MarcRecord, number: str, rules: AspaceRules) -> MarcRecord:
    """Rule 3 (#129, #130): ``001`` = the call number and ``003`` = the organization code, just
    before the first 008, in that order. Like upstream, an 001 already there is not replaced."""
    return insert_at(
        record,
        _index_008(record),
        ControlField("001", number),
        ControlField("003", rules.org_code),
    )


def add_system_number(record: MarcRecord, number: str, rules: AspaceRules) -> MarcRecord:
    """Rule 4 (#144): ``035 ## $a (<org>)<call number>`` just after the first 008."""
    field = data_field("035", " ", " ", ("a", f"({rules.org_code}){number}"))
    return insert_at(record, _index_008(record) + 1, field)


def replace_cataloging_source(record: MarcRecord, rules: AspaceRules) -> MarcRecord:
    """Rule 5 (#131): every 040 becomes ``040 ## $a <agency> $b <language> $e <conventions>
    $c <agency>``, where it stands."""
    source = data_field(
        "040",
        " ",
        " ",
        ("a", rules.cataloging_agency),
        ("b", rules.cataloging_language),
        ("e", rules.description_conventions),
        ("c", rules.cataloging_agency),
    )
    return record.with_fields(
        source if isinstance(f, DataField) and f.tag == "040" else f for f in record.fields
    )


def add_dates(record: MarcRecord) -> MarcRecord:
    """Rule 6 (#134): ``046 ## $a i $c <008/07-10> $e <008/11-14>`` (Date1, Date2) just after
    the first 041. A short 008 gives short or empty dates, as Ruby's ``[7..10]`` does."""
    fixed = record.control("008") or ""
    index = first_index(record, "041", DataField)
    if index is None:  # pragma: no cover - transform_record rejects such a record first (AS5)
        raise ValueError("rule 6 needs an 041")
    field = data_field("046", " ", " ", ("a", DATE_TYPE), ("c", fixed[7:11]), ("e", fixed[11:15]))
    return insert_at(record, index + 1, field)


def _index_008(record: MarcRecord) -> int:
    index = first_index(record, "008", ControlField)
    if index is None:  # pragma: no cover - transform_record rejects such a record first (AS5)
        raise ValueError("rules 3 and 4 need an 008")
    return index
