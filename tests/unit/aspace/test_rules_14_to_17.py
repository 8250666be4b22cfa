"""Rules 14–17 of the aspace2alma transform (AS4, research §a), with AS3's container fixes."""

from __future__ import annotations

import pytest

from domain.aspace.items import indicator_order
from domain.aspace.transform import (
    Excluded,
    Rejected,
    exclusion,
    qualifying_containers,
    transform_record,
)
from domain.shared.aspace_rules import PRINCETON_RULES
from tests.unit.aspace.records import (
    CALL_NUMBER,
    container,
    df,
    fields,
    link,
    out,
    pairs,
    record,
    tags,
    transformed,
)


def test_rule_14_a_new_recap_container_becomes_a_949_after_the_982s() -> None:
    # rule AS4.14
    box = container()
    result = transformed(record(df("500", "  ", ("a", "Location of resource: scarcpph."))), [box])
    assert result.items == (box,)
    assert tags(result.record)[-2:] == ["982", "949"]
    (item,) = fields(result.record, "949")
    assert (item.indicator1, item.indicator2) == (" ", " ")
    assert pairs(item) == [
        ("a", "32101106176132"),
        ("b", "volume 2477"),
        ("c", "scarcpph"),
        ("d", "(PULFA)MC001.01"),
    ]


def test_rule_14_949_items_are_sorted_by_the_first_number_in_the_indicator() -> None:
    # rule AS4.14 (the 949 sort by indicator)
    boxes = [
        container("b10", "Box 10"),
        container("b2", "2a"),
        container("none", "oversize"),  # no number: 0, as Ruby's nil.to_i
        container("b2bis", "2"),  # equal keys keep ArchivesSpace's order (stable)
    ]
    result = transformed(record(), boxes)
    assert [f.subfields[0].value for f in fields(result.record, "949")] == [
        "none",
        "b2",
        "b2bis",
        "b10",
    ]
    assert [c.barcode for c in result.items] == ["none", "b2", "b2bis", "b10"]
    assert indicator_order(container(indicator="v.0012-13")) == 12


def test_rule_14_an_empty_or_blank_barcode_never_qualifies() -> None:
    # rule AS4.14, AS3 fix: upstream let "" through (Ruby's "" is truthy)
    boxes = [container(""), container("   ")]
    assert qualifying_containers(boxes, frozenset(), PRINCETON_RULES) == ()


def test_rule_14_a_known_barcode_never_qualifies() -> None:
    # rule AS4.14, AS3: in Alma's set or written by an earlier record of the run
    known = frozenset({"32101106176132"})
    assert qualifying_containers([container()], known, PRINCETON_RULES) == ()
    assert qualifying_containers([container(" 32101106176132 ")], known, PRINCETON_RULES) == ()


def test_rule_14_two_containers_with_one_barcode_give_one_949() -> None:
    # rule AS4.14, AS3 fix: upstream wrote the barcode twice
    boxes = [container("321", "1"), container("321", "2")]
    result = transformed(record(), boxes)
    assert [pairs(f)[1] for f in fields(result.record, "949")] == [("b", "volume 1")]
    assert result.items == (boxes[0],)


def test_rule_14_a_container_outside_recap_never_qualifies() -> None:
    # rule AS4.14: ^(sca)?rcp\p{L}+
    boxes = [
        container("a", location="scamss"),
        container("b", location=""),
        container("c", location="xrcpph"),
        container("d", location="rcp"),
    ]
    assert qualifying_containers(boxes, frozenset(), PRINCETON_RULES) == ()
    recap = [container("e", location="rcppa"), container("f", location="scarcpxr")]
    assert qualifying_containers(recap, frozenset(), PRINCETON_RULES) == tuple(recap)


def test_rule_14_the_barcode_is_stripped_in_the_949_and_the_item() -> None:
    # rule AS4.14: the value AS3 then counts as known is the one the 949 carries
    result = transformed(record(), [container(" 321 ")])
    assert result.items[0].barcode == "321"
    assert fields(result.record, "949")[0].subfields[0].value == "321"


def test_rule_15_notes_alma_does_not_want_are_removed() -> None:
    # rule AS4.15
    removed = ("351", "351", "500", "524", "535", "540", "541", "544", "561", "583")
    source = record(*(df(tag, "  ", ("a", f"note {tag}")) for tag in removed))
    source = source.with_fields((*source.fields, df("506", "  ", ("a", "Open."))))
    result = out(source)
    assert not set(removed) & set(tags(result))
    assert "506" in tags(result)


def test_rule_16_the_result_names_the_call_number_upstream_logs() -> None:
    # rule AS4.16: upstream logs "Fetched record <099$a>" and sleeps; the use case records it
    assert transformed(record()).call_number == CALL_NUMBER


@pytest.mark.parametrize(
    "number", ["C0140", "C0744.06", "C0744x06", "RBD1.1", "RBD1x1", "C0723.1-47", "LAE12", "POR3"]
)
def test_rule_17_a_call_number_on_the_exclusion_list_is_excluded(number: str) -> None:
    # rule AS4.17: the pattern keeps upstream's unescaped dots (parity: C0744x06 is excluded)
    source = record(call_number=number)
    expected = f"call number {number} is on the exclusion list"
    assert exclusion(source, PRINCETON_RULES) == expected
    assert transform_record(source, [container()], frozenset(), PRINCETON_RULES) == Excluded(
        number, expected
    )


@pytest.mark.parametrize("number", ["C01400", "XC0140", "LAE", "MC001.01"])
def test_rule_17_the_exclusion_list_is_anchored(number: str) -> None:
    # rule AS4.17
    assert exclusion(record(call_number=number), PRINCETON_RULES) is None


def test_rule_17_a_record_without_856_is_excluded() -> None:
    # rule AS4.17
    reason = "no 856: no finding aid to link"
    assert exclusion(record(finding_aid=False), PRINCETON_RULES) == reason
    result = transform_record(record(finding_aid=False), (), frozenset(), PRINCETON_RULES)
    assert result == Excluded(CALL_NUMBER, reason)


def test_rule_17_a_blank_856_removed_by_rule_1_counts_as_none() -> None:
    # rule AS4.17 after rule AS4.1
    source = record(df("856", "42", ("z", " "), ("u", "")), finding_aid=False)
    assert exclusion(source, PRINCETON_RULES) == "no 856: no finding aid to link"
    assert exclusion(record(link()), PRINCETON_RULES) is None


def test_rule_17_a_record_rules_cannot_transform_is_rejected_not_excluded() -> None:
    # rule AS4.17 and AS5: upstream crashed before its filter
    source = record(call_number="C0140", language=False)
    assert exclusion(source, PRINCETON_RULES) is None
    assert isinstance(transform_record(source, (), frozenset(), PRINCETON_RULES), Rejected)
