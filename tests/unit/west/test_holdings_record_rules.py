"""Rules H1, H3, H4, H5 of the WEST holdings export (WORKFLOWS.md §H) and the MARC model."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from domain.shared.errors import DomainError
from domain.shared.marc import (
    ControlField,
    DataField,
    InvalidMarc,
    MarcRecord,
    SourceRecord,
    Subfield,
)
from domain.west.holdings_record import (
    KeepDecision,
    ReportRow,
    WestOutputNames,
    clean_mms_ids,
    keep_decision,
    missing_required_tags,
    normalise_holding,
    ordered_report,
    output_names,
    skip_reason,
    stamp_005,
)

LEADER = "00384nx  a2200145ui 4500"
F852 = DataField("852", "1", " ", (Subfield("b", "MAIN"), Subfield("h", "839.82")))
F583 = DataField("583", "1", " ", (Subfield("a", "committed to retain"),))
F035 = DataField("035", " ", " ", (Subfield("a", "(OCoLC)123"),))


def record(*fields: ControlField | DataField) -> MarcRecord:
    return MarcRecord(LEADER, fields)


def tags(r: MarcRecord) -> list[str]:
    return [f.tag for f in r.fields]


# H1 ------------------------------------------------------------------------------------------


def test_H1_ids_are_stripped_and_empty_ones_dropped() -> None:
    assert clean_mms_ids([" 991 ", "\t992\n", "", "   "]) == ("991", "992")


def test_H1_order_is_kept_and_duplicates_dropped_after_stripping() -> None:
    assert clean_mms_ids(["993", "991", "993 ", "992", " 991"]) == ("993", "991", "992")


def test_H1_no_ids_in_gives_no_ids_out() -> None:
    assert clean_mms_ids([]) == ()
    assert clean_mms_ids(iter(["", " "])) == ()


# H3 ------------------------------------------------------------------------------------------


def test_H3_001_is_the_holding_id_and_004_the_mms_id_replaced_where_they_stand() -> None:
    before = record(ControlField("001", "h449730"), ControlField("004", "000631221"), F852)
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code=None, stamp=None)
    assert after.fields == (ControlField("001", "221"), ControlField("004", "991"), F852)
    assert after.leader == LEADER


def test_H3_a_missing_001_and_004_are_inserted_in_tag_order() -> None:
    before = record(ControlField("008", "1511020l"), F852)
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code=None, stamp=None)
    assert after.fields == (
        ControlField("001", "221"),
        ControlField("004", "991"),
        ControlField("008", "1511020l"),
        F852,
    )


def test_H3_alma_003_and_005_stay_when_no_org_code_or_stamp_is_configured() -> None:
    before = record(
        ControlField("001", "221"),
        ControlField("003", "NO-TrBIB"),
        ControlField("004", "991"),
        ControlField("005", "20181109134730.0"),
    )
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code=None, stamp=None)
    assert after == before


def test_H3_configured_003_and_005_replace_alma_s_never_duplicated() -> None:
    before = record(
        ControlField("001", "221"),
        ControlField("003", "NO-TrBIB"),
        ControlField("005", "20181109134730.0"),
        F852,
    )
    after = normalise_holding(
        before, mms_id="991", holding_id="221", org_code="WaU", stamp="20261203140509.0"
    )
    assert after.control_fields == (
        ControlField("001", "221"),
        ControlField("003", "WaU"),
        ControlField("004", "991"),
        ControlField("005", "20261203140509.0"),
    )


def test_H3_configured_003_and_005_are_inserted_when_absent() -> None:
    before = record(ControlField("001", "x"), ControlField("008", "y"), F852)
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code="AzTeS", stamp="s")
    assert tags(after) == ["001", "003", "004", "005", "008", "852"]


def test_H3_control_fields_end_in_tag_order_even_when_alma_sent_them_out_of_order() -> None:
    # The real holdings sample has its 005 after 009.
    before = record(
        ControlField("001", "h"),
        ControlField("009", "kat"),
        ControlField("005", "20181109134730.0"),
        ControlField("007", "ta"),
        F852,
    )
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code=None, stamp=None)
    assert tags(after) == ["001", "004", "005", "007", "009", "852"]


def test_H3_a_duplicated_001_collapses_into_one() -> None:
    before = record(ControlField("001", "a"), ControlField("001", "b"), F852)
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code=None, stamp=None)
    assert after.control_fields == (ControlField("001", "221"), ControlField("004", "991"))


def test_H3_data_fields_are_left_untouched_in_their_order() -> None:
    odd = DataField("014", "1", " ", (Subfield("a", "x"),))
    before = record(ControlField("001", "h"), F852, F035, ControlField("004", "old"), F583, odd)
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code=None, stamp=None)
    assert after.data_fields == (F852, F035, F583, odd)
    assert tags(after) == ["001", "004", "852", "035", "583", "014"]


def test_H3_non_numeric_tags_do_not_crash_and_sort_after_digits() -> None:
    # The original compared int(tag) and died on the first letter.
    ava = DataField("AVA", " ", " ", (Subfield("a", "x"),))
    before = record(ControlField("FMT", "HO"), ControlField("008", "y"), ava, F852)
    after = normalise_holding(before, mms_id="991", holding_id="221", org_code="X", stamp=None)
    assert tags(after) == ["001", "003", "004", "008", "FMT", "AVA", "852"]


def test_H3_a_blank_holding_or_mms_id_is_a_caller_mistake() -> None:
    with pytest.raises(DomainError, match="holding id and an MMS id"):
        normalise_holding(record(), mms_id="991", holding_id=" ", org_code=None, stamp=None)


def test_H3_the_005_stamp_is_seconds_and_a_zero_tenth() -> None:
    assert stamp_005(datetime(2026, 12, 3, 14, 5, 9, 730_000)) == "20261203140509.0"
    assert stamp_005(datetime(2027, 1, 1)) == "20270101000000.0"


def test_H3_with_control_field_inserts_among_control_fields_and_never_duplicates() -> None:
    base = record(ControlField("001", "a"), ControlField("008", "b"), F852)
    assert tags(base.with_control_field("005", "s")) == ["001", "005", "008", "852"]
    assert tags(base.with_control_field("009", "s")) == ["001", "008", "009", "852"]
    assert tags(record(F852).with_control_field("001", "s")) == ["001", "852"]
    replaced = base.with_control_field("008", "c")
    assert replaced.fields == (ControlField("001", "a"), ControlField("008", "c"), F852)


def test_H3_the_model_reads_control_values_and_data_tags() -> None:
    r = record(ControlField("001", "a"), F852, F583)
    assert r.control("001") == "a"
    assert r.control("004") is None
    assert r.has_data_field(["583", "584"])
    assert r.has_data_field("852")
    assert not r.has_data_field("001")
    assert F852.values("h") == ("839.82",)


@pytest.mark.parametrize(
    "build",
    [
        lambda: ControlField("1", "x"),
        lambda: DataField("5830", " ", " "),
        lambda: DataField("583", "", " "),
        lambda: Subfield("ab", "x"),
        lambda: MarcRecord("short"),
        lambda: SourceRecord(1, None, None),
        lambda: SourceRecord(1, "991", "and a problem"),
    ],
)
def test_H3_the_model_refuses_what_marc_cannot_hold(build: object) -> None:
    assert callable(build)
    with pytest.raises(InvalidMarc):
        build()


# H4 ------------------------------------------------------------------------------------------


def test_H4_a_record_with_a_583_is_kept() -> None:
    assert keep_decision(record(ControlField("001", "h"), F852, F583)) == KeepDecision(keep=True)


def test_H4_a_record_without_a_583_is_skipped_with_no_583() -> None:
    decision = keep_decision(record(ControlField("001", "h"), F852))
    assert decision == KeepDecision(keep=False, reason="no 583")
    assert missing_required_tags(record(F852))


def test_H4_only_a_data_field_counts() -> None:
    assert missing_required_tags(record(ControlField("583", "x")), ("583",))


def test_H4_configured_tags_any_one_keeps_and_the_reason_names_them_all() -> None:
    f584 = DataField("584", " ", " ", (Subfield("a", "x"),))
    assert keep_decision(record(f584), ("583", "584")).keep
    assert keep_decision(record(F852), ("583", "584")).reason == "no 583 or 584"
    assert skip_reason(("561", "583", "584")) == "no 561, 583 or 584"
    assert skip_reason("583") == "no 583"


def test_H4_an_empty_tag_list_is_refused() -> None:
    with pytest.raises(DomainError, match="H4"):
        keep_decision(record(F583), ())


# H5 ------------------------------------------------------------------------------------------


def test_H5_output_names_carry_the_prefix_and_the_day() -> None:
    names = output_names("wau", date(2026, 12, 3))
    assert names == WestOutputNames(
        xml="wau.alma.archived.20261203.xml",
        mrc="wau.alma.archived.20261203.mrc",
        report="wau.alma.archived.20261203.report.csv",
    )
    assert names.all() == (names.xml, names.mrc, names.report)


@pytest.mark.parametrize("prefix", ["", " asu", "a/b", "a\\b"])
def test_H5_a_prefix_that_is_no_file_name_part_is_refused(prefix: str) -> None:
    with pytest.raises(DomainError, match="prefix"):
        output_names(prefix, date(2026, 12, 3))


def test_H5_a_bib_row_has_an_empty_holding_id() -> None:
    assert ReportRow.for_bib("991", "skipped", "no holdings") == ReportRow(
        "991", "", "skipped", "no holdings"
    )


def test_H5_rows_follow_mms_id_order_then_holding_order() -> None:
    rows = [
        ReportRow("992", "h2a", "ok"),
        ReportRow.for_bib("993", "failed", "not in Alma"),
        ReportRow("991", "h1a", "skipped", "no 583"),
        ReportRow("992", "h2b", "ok"),
        ReportRow("991", "h1b", "ok"),
    ]
    assert [(r.mms_id, r.holding_id) for r in ordered_report(["991", "992", "993"], rows)] == [
        ("991", "h1a"),
        ("991", "h1b"),
        ("992", "h2a"),
        ("992", "h2b"),
        ("993", ""),
    ]


def test_H5_rows_of_input_records_without_an_id_come_first() -> None:
    unreadable = ReportRow("", "", "failed", "record 2 at byte offset 755 has no 001")
    ordered = ordered_report(["991"], [ReportRow("991", "h", "ok"), unreadable])
    assert ordered == (unreadable, ReportRow("991", "h", "ok"))


def test_H5_every_mms_id_needs_a_row() -> None:
    with pytest.raises(DomainError, match="992"):
        ordered_report(["991", "992"], [ReportRow("991", "h", "ok")])
