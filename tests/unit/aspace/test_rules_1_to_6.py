"""Rules 1–6 of the aspace2alma transform (AS4, research §a) and the fields they need (AS5)."""

from __future__ import annotations

import pytest

from domain.aspace.transform import Rejected, call_number, transform_record
from domain.shared.aspace_rules import PRINCETON_RULES, AspaceRules
from domain.shared.marc import ControlField, MarcRecord
from tests.unit.aspace.records import (
    CALL_NUMBER,
    FIXED,
    LEADER,
    df,
    fields,
    out,
    pairs,
    record,
    tags,
)


def test_rule_1_blank_subfields_then_fields_left_empty_are_removed() -> None:
    # rule AS4.1
    source = record(
        df("049", "  "),  # ArchivesSpace's <datafield tag="049"/>
        df("300", "  ", ("a", "22"), ("f", " \t")),
        df("500", "  ", ("a", "   "), ("b", "\n")),
    )
    result = out(source)
    assert "049" not in tags(result)
    assert "500" not in tags(result)
    assert pairs(fields(result, "300")[0]) == [("a", "22")]


def test_rule_1_a_blank_control_field_is_removed() -> None:
    # rule AS4.1
    source = record()
    source = source.with_fields((ControlField("007", "  "), *source.fields))
    assert "007" not in tags(out(source))


def test_rule_2_line_breaks_in_a_subfield_become_one_space() -> None:
    # rule AS4.2
    result = out(record(df("506", "  ", ("a", "open\r\n\nfor use.\n\n more"))))
    # Only the breaks are replaced: a space after them stays (the golden 520 has two spaces).
    assert pairs(fields(result, "506")[0]) == [("a", "open for use.  more")]


def test_rule_3_001_and_003_are_inserted_before_the_008() -> None:
    # rule AS4.3
    result = out(record())
    assert result.fields[:3] == (
        ControlField("001", CALL_NUMBER),
        ControlField("003", "PULFA"),
        ControlField("008", FIXED),
    )


def test_rule_3_takes_the_org_code_from_the_rules() -> None:
    # rule AS4.3
    result = out(record(), rules=AspaceRules(org_code="XYZFA"))
    assert result.control("003") == "XYZFA"


def test_rule_4_035_follows_the_008() -> None:
    # rule AS4.4
    result = out(record())
    assert tags(result)[:5] == ["001", "003", "008", "035", "040"]
    assert pairs(fields(result, "035")[0]) == [("a", "(PULFA)MC001.01")]


def test_rule_5_every_040_is_replaced_where_it_stands() -> None:
    # rule AS4.5
    source = record(df("040", "  ", ("a", "XX")))
    result = out(source)
    expected = [("a", "NjP"), ("b", "eng"), ("e", "dacs"), ("c", "NjP")]
    assert [pairs(f) for f in fields(result, "040")] == [expected, expected]
    assert tags(result).index("040") == 4


def test_rule_6_046_follows_the_first_041_with_the_008_dates() -> None:
    # rule AS4.6
    source = record(df("041", "  ", ("a", "fre")))
    result = out(source)
    position = tags(result).index("041")
    assert tags(result)[position + 1] == "046"
    assert pairs(fields(result, "046")[0]) == [("a", "i"), ("c", "1917"), ("e", "1950")]
    assert tags(result).count("046") == 1


def test_rule_6_a_short_008_gives_short_dates_as_ruby_slices_do() -> None:
    # rule AS4.6
    result = out(record(fixed="221215i19"))
    assert pairs(fields(result, "046")[0]) == [("a", "i"), ("c", "19"), ("e", "")]


@pytest.mark.parametrize(
    ("source", "named"),
    [
        (record(fixed=None), "no 008"),
        (record(language=False), "no 041"),
        (record(call_number=None), "no 099 $a"),
    ],
    ids=["008", "041", "099"],
)
def test_AS5_a_record_without_008_041_or_099_is_rejected_naming_it(
    source: MarcRecord, named: str
) -> None:
    result = transform_record(source, (), frozenset(), PRINCETON_RULES)
    assert isinstance(result, Rejected)
    assert result.reason.startswith(named + ":")


def test_AS5_several_missing_fields_are_all_named() -> None:
    result = transform_record(
        record(fixed=None, call_number=None), (), frozenset(), PRINCETON_RULES
    )
    assert isinstance(result, Rejected)
    assert result.call_number is None
    assert result.reason.startswith("no 008 and no 099 $a:")


def test_AS5_a_blank_099_is_missing_once_rule_1_removed_it() -> None:
    result = transform_record(record(call_number="  "), (), frozenset(), PRINCETON_RULES)
    assert isinstance(result, Rejected)
    assert "099 $a" in result.reason


def test_AS5_a_rejected_record_keeps_its_call_number_when_it_has_one() -> None:
    result = transform_record(record(language=False), (), frozenset(), PRINCETON_RULES)
    assert isinstance(result, Rejected)
    assert result.call_number == CALL_NUMBER


def test_call_number_is_the_first_099_a_after_rules_1_and_2() -> None:
    assert call_number(record()) == CALL_NUMBER
    assert call_number(record(call_number=None)) is None
    two = MarcRecord(
        LEADER,
        (df("099", "  ", ("a", " ")), df("099", "  ", ("b", "x"), ("a", "C0140\nA"))),
    )
    assert call_number(two) == "C0140 A"
