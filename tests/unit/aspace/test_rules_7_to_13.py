"""Rules 7–13 of the aspace2alma transform (AS4, research §a)."""

from __future__ import annotations

from domain.aspace.notes import truncate
from domain.shared.aspace_rules import AspaceRules
from tests.unit.aspace.records import ARK, df, fields, out, pairs, record, tags


def test_rule_7_a_local_field_with_second_indicator_7_gets_5_njp_at_its_end() -> None:
    # rule AS4.7
    source = record(
        df("100", "27", ("a", "test"), ("2", "local")),  # not a heading tag: the golden 100
        df("610", "27", ("a", "Princeton University."), ("2", "local")),
        df("650", " 0", ("a", "Law"), ("2", "local")),  # second indicator 0
        df("655", " 7", ("a", "Briefs."), ("2", "aat")),
    )
    result = out(source)
    assert pairs(fields(result, "100")[0])[-1] == ("5", "NjP")
    assert pairs(fields(result, "610")[0]) == [
        ("a", "Princeton University."),
        ("2", "local"),
        ("5", "NjP"),
    ]
    assert ("5", "NjP") not in pairs(fields(result, "650")[0])
    assert ("5", "NjP") not in pairs(fields(result, "655")[0])


def test_rule_7_runs_before_rule_10_so_split_parts_follow_the_5() -> None:
    # rule AS4.7 (upstream's order: the $5 is appended first, the split parts after it)
    result = out(record(df("650", " 7", ("a", "Law -- History"), ("2", "local"))))
    assert pairs(fields(result, "650")[0]) == [
        ("a", "Law"),
        ("2", "local"),
        ("5", "NjP"),
        ("x", "History"),
    ]


def test_rule_8_245_g_becomes_mostly() -> None:
    # rule AS4.8
    source = record()
    source = source.with_fields(
        df("245", "10", ("a", "Records,"), ("g", "1930-1950")) if f.tag == "245" else f
        for f in source.fields
    )
    assert pairs(fields(out(source), "245")[0])[-1] == ("g", "(mostly 1930-1950)")
    assert pairs(fields(out(record()), "245")[0]) == [("a", "Records,"), ("f", "1917-1950")]


def test_rule_9_a_520_a_over_7999_characters_is_cut_to_7999_ending_in_dots() -> None:
    # rule AS4.9 (the 7,999-character truncation)
    long = "".join(chr(ord("a") + i % 26) for i in range(12_000))
    result = out(record(df("520", "2 ", ("a", long)), df("520", "3 ", ("a", "é" * 8000))))
    first, second = (f.subfields[0].value for f in fields(result, "520"))
    assert len(first) == 7999
    assert first == long[:7996] + "..."
    assert second == "é" * 7996 + "..."  # characters, not bytes, as Ruby counts


def test_rule_9_a_520_of_exactly_the_limit_is_kept_and_every_520_is_kept() -> None:
    # rule AS4.9
    exact = "x" * 7999
    result = out(record(df("520", "  ", ("a", exact)), df("520", "  ", ("a", "short"))))
    assert [f.subfields[0].value for f in fields(result, "520")] == [exact, "short"]


def test_rule_9_the_limit_comes_from_the_rules_like_activesupport_truncate() -> None:
    # rule AS4.9: ActiveSupport's own example, "…".truncate(27)
    text = "Once upon a time in a world far far away"
    assert truncate(text, 27) == "Once upon a time in a wo..."
    result = out(record(df("520", "  ", ("a", text))), rules=AspaceRules(note_limit=27))
    assert fields(result, "520")[0].subfields[0].value == "Once upon a time in a wo..."


def test_rule_10_subject_a_split_on_double_dash_into_x_and_y() -> None:
    # rule AS4.10 (the issue's -- split)
    source = record(
        df("650", " 0", ("a", "Lawyers -- United States -- 20th century -- Correspondence.")),
        df("651", " 0", ("a", "Minnesota"), ("v", "Maps")),
    )
    result = out(source)
    assert pairs(fields(result, "650")[0]) == [
        ("a", "Lawyers"),
        ("x", "United States"),
        ("y", "20th century"),
        ("x", "Correspondence."),
    ]
    assert pairs(fields(result, "651")[0]) == [("a", "Minnesota"), ("v", "Maps")]


def test_rule_10_parts_are_appended_at_the_end_of_the_field() -> None:
    # rule AS4.10: upstream appends after the field's last child, not after $a
    result = out(record(df("600", "10", ("a", "Baldwin -- Archives"), ("d", "1884-1981"))))
    assert pairs(fields(result, "600")[0]) == [
        ("a", "Baldwin"),
        ("d", "1884-1981"),
        ("x", "Archives"),
    ]


def test_rule_10_splits_like_ruby_trailing_empty_parts_dropped() -> None:
    # rule AS4.10: Ruby's "A -- B --".split('--') has two parts; "A----B" keeps an empty one
    result = out(record(df("650", " 0", ("a", "A -- B --")), df("650", " 0", ("a", "A----B"))))
    assert [pairs(f) for f in fields(result, "650")] == [
        [("a", "A"), ("x", "B")],
        [("a", "A"), ("x", ""), ("x", "B")],
    ]


def test_rule_10_viaf_0_becomes_1_and_2_viaf_goes_with_indicator_7_to_0() -> None:
    # rule AS4.10 (the issue's viaf recoding; marc_1512's 600s)
    source = record(
        df(
            "600",
            "17",
            ("a", "Baldwin, Roger N. (Roger Nash), 1884-1981."),
            ("0", "https://viaf.org/viaf/109866015"),
            ("2", "viaf"),
        ),
        df("110", "2 ", ("a", "ACLU,"), ("0", "https://viaf.org/viaf/124191829")),
    )
    result = out(source)
    heading = fields(result, "600")[0]
    assert heading.indicator2 == "0"
    assert pairs(heading) == [
        ("a", "Baldwin, Roger N. (Roger Nash), 1884-1981."),
        ("1", "https://viaf.org/viaf/109866015"),
    ]
    # 110 is not a heading tag of rule 10: its $0 stays (as in the golden file).
    assert pairs(fields(result, "110")[0])[-1] == ("0", "https://viaf.org/viaf/124191829")


def test_rule_10_a_non_viaf_0_and_2_stay() -> None:
    # rule AS4.10
    source = record(df("650", " 7", ("a", "Law"), ("0", "http://id.loc.gov/x"), ("2", "fast")))
    heading = fields(out(source), "650")[0]
    assert heading.indicator2 == "7"
    assert pairs(heading) == [("a", "Law"), ("0", "http://id.loc.gov/x"), ("2", "fast")]


def test_rule_11_every_852_is_removed() -> None:
    # rule AS4.11
    source = record(df("852", "  ", ("a", "Princeton")), df("852", "  ", ("b", "Mudd")))
    assert "852" not in tags(out(source))


def test_rule_12_the_856_is_replaced_by_the_finding_aid_link() -> None:
    # rule AS4.12
    result = out(record())
    (link,) = fields(result, "856")
    assert (link.indicator1, link.indicator2) == ("4", "2")
    assert pairs(link) == [
        ("z", "Search and Request"),
        ("u", ARK),
        ("y", "Princeton University Library Finding Aids"),
    ]


def test_rule_12_only_the_first_856_is_replaced_and_one_without_u_gets_none() -> None:
    # rule AS4.12 (upstream's at_xpath takes the first 856; a missing $u interpolates nothing)
    source = record(
        df("856", "40", ("z", "no link")),
        df("856", "40", ("u", "http://second")),
        finding_aid=False,
    )
    first, second = fields(out(source), "856")
    assert pairs(first) == [
        ("z", "Search and Request"),
        ("y", "Princeton University Library Finding Aids"),
    ]
    assert pairs(second) == [("u", "http://second")]


def test_rule_13_a_location_500_gives_one_982_per_word_as_last_fields() -> None:
    # rule AS4.13 (the 500 -> 982)
    source = record(
        df("500", "  ", ("a", "Location of resource: scarcpph.")),
        df("500", "  ", ("a", "Location of resource: FOR DIGITIZED CONTENT: see the Guide .")),
        df("500", "  ", ("a", "Location of resource: scamss scarcpph.")),
        df("506", "  ", ("a", "Open.")),
    )
    result = out(source)
    locations = [pairs(f) for f in fields(result, "982")]
    assert locations == [[("c", "scarcpph")], [("c", "scamss")], [("c", "scarcpph")]]
    assert tags(result)[-3:] == ["982", "982", "982"]
    assert tags(result)[-4] == "856"
    assert all(f.indicator1 == " " and f.indicator2 == " " for f in fields(result, "982"))


def test_rule_13_the_pattern_is_searched_not_anchored_and_comes_from_the_rules() -> None:
    # rule AS4.13
    note = df("500", "  ", ("a", "See: Location of resource: mudd."))
    assert [pairs(f) for f in fields(out(record(note)), "982")] == [[("c", "mudd")]]
    rules = AspaceRules(location_note=r"Shelved: (xyz)")
    other = df("500", "  ", ("a", "Shelved: xyz1 xyz2."))
    assert [pairs(f) for f in fields(out(record(other), rules=rules), "982")] == [
        [("c", "xyz1")],
        [("c", "xyz2")],
    ]
