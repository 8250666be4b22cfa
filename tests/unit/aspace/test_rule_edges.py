"""Edge cases of the aspace2alma rules (AS4, research §a rules 3, 4, 9, 10 and 12): a field
without the subfield a rule reads, and a record without the field a rule rewrites."""

from __future__ import annotations

from domain.aspace.fields import first_subfield_value
from domain.aspace.notes import link_finding_aid
from domain.shared.aspace_rules import PRINCETON_RULES
from domain.shared.marc import ControlField, MarcRecord
from tests.unit.aspace.records import LEADER, df, fields, out, pairs, record


def test_rules_3_and_4_pass_over_a_099_without_a_for_the_next_099_a() -> None:
    # rules AS4.3 and AS4.4: upstream's at_xpath('//datafield[@tag=099]/subfield[@code=a]')
    # takes the first 099 $a in record order, so a 099 without $a (here one whose blank $a
    # rule AS4.1 removed) is passed over for the next 099's $a
    source = record(
        df("099", "  ", ("a", " "), ("b", "Box 1")),
        df("099", "  ", ("a", "MC002")),
        call_number=None,
    )
    result = out(source)
    (control,) = (f for f in result.fields if isinstance(f, ControlField) and f.tag == "001")
    assert control.value == "MC002"
    assert pairs(fields(result, "035")[0]) == [("a", "(PULFA)MC002")]


def test_the_first_099_a_is_none_when_no_099_has_one() -> None:
    # rules AS4.3 and AS4.4 (and AS5): every 099 lacks $a, so there is no call number to use
    source = MarcRecord(LEADER, (df("099", "  ", ("b", "Box 1")), df("099", "  ", ("b", "2"))))
    assert first_subfield_value(source, "099", "a") is None


def test_rule_9_keeps_a_520_without_a_as_it_is() -> None:
    # rule AS4.9: only a 520's first $a is cut; a 520 with no $a has nothing to cut and is kept
    # unchanged (upstream would raise on it)
    long = "b" * 9000
    result = out(record(df("520", "2 ", ("b", long)), df("520", "3 ", ("a", "Short note."))))
    first, second = fields(result, "520")
    assert pairs(first) == [("b", long)]
    assert (first.indicator1, first.indicator2) == ("2", " ")
    assert pairs(second) == [("a", "Short note.")]


def test_rule_10_a_heading_without_a_still_gets_its_viaf_0_and_2_handled() -> None:
    # rule AS4.10: nothing to split without $a, and no $x/$y is added, but $0 with viaf still
    # becomes $1 and $2 viaf still goes with the second indicator 7 becoming 0
    source = record(
        df(
            "600",
            "17",
            ("d", "1900-1980"),
            ("0", "http://viaf.org/viaf/12345"),
            ("2", "viaf"),
        )
    )
    (heading,) = fields(out(source), "600")
    assert pairs(heading) == [("d", "1900-1980"), ("1", "http://viaf.org/viaf/12345")]
    assert (heading.indicator1, heading.indicator2) == ("1", "0")


def test_rule_10_removing_2_viaf_changes_only_a_second_indicator_7() -> None:
    # rule AS4.10: $2 viaf is removed whatever the second indicator, but only 7 becomes 0;
    # any other second indicator (here 4, source not specified) is kept
    source = record(df("700", "14", ("a", "Smith, Jane -- Correspondence"), ("2", "viaf")))
    (heading,) = fields(out(source), "700")
    assert pairs(heading) == [("a", "Smith, Jane"), ("x", "Correspondence")]
    assert (heading.indicator1, heading.indicator2) == ("1", "4")


def test_rule_12_leaves_a_record_without_856_unchanged() -> None:
    # rule AS4.12: "if an 856 exists" it is replaced; without one no 856 is added. (In
    # transform_record rule AS4.17 has already excluded such a record, so only a direct call
    # of the rule shows it.)
    source = record(df("520", "2 ", ("a", "Note.")), finding_aid=False)
    assert link_finding_aid(source, PRINCETON_RULES) == source
    assert not source.has_data_field("856")
