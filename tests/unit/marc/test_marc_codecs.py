"""Reading: MMS ids from ISO 2709, MARCXML and plain lists (rule H1), and Alma's holdings
record (rule H3)."""

from __future__ import annotations

from pathlib import Path

import pymarc
import pytest

from adapters.marc.id_lists import (
    mms_ids_from_bytes,
    mms_ids_from_list,
    read_mms_ids,
    sniff_id_source,
)
from adapters.marc.iso2709 import mms_ids_from_iso2709, read_iso2709
from adapters.marc.marcxml import (
    MARC_NAMESPACE,
    MarcXmlError,
    mms_ids_from_marcxml,
    record_from_alma_marcxml,
)
from domain.shared.marc import ControlField, DataField, MarcRecord, SourceRecord, Subfield

LEADER = "00000nx  a2200000ui 4500"


def west_sample(shared: Path, name: str) -> bytes:
    return (shared / "west_holdings" / name).read_bytes()


def bib(control_number: str | None, title: str = "A title", *, marc8: bool = False) -> bytes:
    """One ISO 2709 record written by pymarc; MARC-8 when asked (``title`` then holds the MARC-8
    code points as Latin-1 characters)."""
    fields = [] if control_number is None else [pymarc.Field(tag="001", data=control_number)]
    fields.append(
        pymarc.Field(
            tag="245",
            indicators=pymarc.Indicators("1", "0"),
            subfields=[pymarc.Subfield("a", title)],
        )
    )
    record = pymarc.Record(to_unicode=not marc8, fields=fields)
    record.leader = pymarc.Leader("00000nam  2200000   4500")
    return record.as_marc()


def ids(entries: tuple[SourceRecord, ...] | list[SourceRecord]) -> list[str | None]:
    return [e.mms_id for e in entries]


# Reading ids from ISO 2709 (H1) ---------------------------------------------------------------


def test_H1_the_pymarc_samples_give_every_001_stripped(shared_reference: Path) -> None:
    test_dat = mms_ids_from_bytes(west_sample(shared_reference, "edsu-pymarc__test.dat"))
    assert len(test_dat) == 10
    assert test_dat[0] == SourceRecord(1, "fol05731351")
    assert test_dat[-1] == SourceRecord(10, "fol05882032")
    assert all(e.problem is None and e.mms_id == e.mms_id.strip() for e in test_dat if e.mms_id)
    marc_dat = mms_ids_from_bytes(west_sample(shared_reference, "edsu-pymarc__marc.dat"))
    assert len(marc_dat) == 20
    assert ids(marc_dat)[:2] == ["11778504", "12515882"]
    assert all(e.problem is None for e in marc_dat)


def test_H1_a_marc8_record_is_decoded_by_leader_09() -> None:
    data = bib("m8-1 ", "Caf\xe2e \xa5sop", marc8=True)
    assert data[9:10] == b" "
    [entry] = list(read_iso2709(data))
    assert entry.record is not None
    assert entry.record.data_fields[0].values("a") == ("Café Æsop",)
    assert list(mms_ids_from_iso2709(data)) == [SourceRecord(1, "m8-1")]


def test_H1_a_utf8_record_is_decoded_as_utf8() -> None:
    data = bib("u-1", "Café Æsop")
    assert data[9:10] == b"a"
    [entry] = list(read_iso2709(data))
    assert entry.record is not None
    assert entry.record.data_fields[0].values("a") == ("Café Æsop",)


def test_H1_a_record_without_001_is_reported_and_reading_goes_on() -> None:
    first = bib("991")
    data = first + bib(None) + bib("993")
    entries = list(mms_ids_from_iso2709(data))
    assert ids(entries) == ["991", None, "993"]
    assert entries[1] == SourceRecord(2, None, f"record 2 at byte offset {len(first)} has no 001")


def test_H1_a_record_that_cannot_be_decoded_is_reported_and_reading_goes_on() -> None:
    bad = bib("992", "caf\u00e9").replace("é".encode(), b"\xff\xfe")
    entries = list(mms_ids_from_iso2709(bib("991") + bad + bib("993")))
    assert ids(entries) == ["991", None, "993"]
    assert entries[1].problem is not None
    assert entries[1].problem.startswith("record 2 at byte offset")
    assert "not valid UTF-8" in entries[1].problem


def test_H1_a_truncated_file_keeps_the_records_before_the_break_and_names_it(
    shared_reference: Path,
) -> None:
    data = west_sample(shared_reference, "edsu-pymarc__test.dat")
    lengths = [int(data[0:5])]
    for _ in range(3):
        lengths.append(int(data[sum(lengths) : sum(lengths) + 5]))
    start_of_4 = sum(lengths[:3])
    cut = data[: start_of_4 + lengths[3] // 2]
    entries = list(mms_ids_from_iso2709(cut))
    assert ids(entries) == ["fol05731351", "fol05754809", "fol05843555", None]
    last = entries[-1]
    assert last.position == 4
    assert last.problem is not None
    assert f"record 4 at byte offset {start_of_4} is cut short" in last.problem
    assert f"declares {lengths[3]} bytes" in last.problem


def test_H1_a_file_cut_inside_the_length_or_without_end_mark_also_stops_with_its_name() -> None:
    one = bib("991")
    assert list(mms_ids_from_iso2709(one + b"007"))[-1].problem == (
        f"record 2 at byte offset {len(one)} has no record length (starts b'007')"
    )
    no_mark = one[:-1] + b"x"
    problem = next(iter(mms_ids_from_iso2709(no_mark))).problem
    assert problem is not None
    assert problem.startswith("record 1 at byte offset 0 has no end-of-record mark")


def test_H1_an_impossible_length_stops_and_a_directory_pymarc_refuses_goes_on() -> None:
    [short] = list(mms_ids_from_iso2709(b"00010nam a"))
    assert short.problem == "record 1 at byte offset 0 declares an impossible length of 10"
    first = bib("991")
    no_base = first[:12] + b"00000" + first[17:]
    entries = list(mms_ids_from_iso2709(first + no_base + first))
    assert ids(entries) == ["991", None, "991"]
    assert entries[1].problem == (
        f"record 2 at byte offset {len(first)} cannot be decoded (BaseAddressNotFound: "
        "Unable to locate base address of record)"
    )


def test_H1_line_ends_between_or_after_records_are_no_record() -> None:
    assert ids(list(mms_ids_from_iso2709(bib("991") + b"\r\n"))) == ["991"]
    assert ids(list(mms_ids_from_iso2709(bib("991") + b"\n" + bib("992")))) == ["991", "992"]


def test_H1_empty_input_gives_no_ids() -> None:
    assert list(read_iso2709(b"")) == []
    assert list(mms_ids_from_marcxml(b"")) == []
    assert list(mms_ids_from_list(b"")) == []
    assert mms_ids_from_bytes(b"") == ()
    assert mms_ids_from_bytes(b"\n \n") == ()


# Reading ids from MARCXML and plain lists (H1) ------------------------------------------------


def test_H1_marcxml_ids_namespaced_or_not_stripped_and_in_order() -> None:
    leader = f"<leader>{LEADER}</leader>"
    body = (
        f"<record>{leader}<controlfield tag='001'> 991 </controlfield></record>"
        f"<record>{leader}<controlfield tag='008'>x</controlfield></record>"
        "<record><controlfield tag='001'>993</controlfield></record>"
    )
    for document in (
        f'<?xml version="1.0"?><collection xmlns="{MARC_NAMESPACE}">{body}</collection>',
        f"<collection>{body}</collection>",
        f"<marc:collection xmlns:marc='{MARC_NAMESPACE}'>"
        + body.replace("<", "<marc:").replace("<marc:/", "</marc:")
        + "</marc:collection>",
    ):
        entries = mms_ids_from_bytes(document.encode())
        assert entries == (
            SourceRecord(1, "991"),
            SourceRecord(2, None, "record 2 has no 001"),
            SourceRecord(3, "993"),
        )


def test_H1_broken_marcxml_keeps_the_records_before_the_break() -> None:
    document = b"<collection><record><controlfield tag='001'>991</controlfield></record><rec"
    entries = list(mms_ids_from_marcxml(document))
    assert ids(entries) == ["991", None]
    assert entries[1].position == 2
    assert entries[1].problem is not None
    assert entries[1].problem.startswith("the MARCXML breaks after record 1")


def test_H1_marcxml_with_entities_is_refused() -> None:
    document = b'<!DOCTYPE x [<!ENTITY a "991">]><collection></collection>'
    assert mms_ids_from_bytes(document, "marcxml") == (
        SourceRecord(1, None, "MARCXML with a DOCTYPE or ENTITY declaration is refused"),
    )
    utf16 = "<collection/>".encode("utf-16")
    assert mms_ids_from_bytes(utf16, "marcxml") == (
        SourceRecord(1, None, "only UTF-8 MARCXML is read"),
    )


def test_H1_a_plain_list_one_id_a_line() -> None:
    data = b"\xef\xbb\xbf 991 \r\n\r\n992\n991\nnot one\n\xff\n993"
    assert sniff_id_source(data) == "list"
    assert list(mms_ids_from_list(data)) == [
        SourceRecord(1, "991"),
        SourceRecord(3, "992"),
        SourceRecord(4, "991"),
        SourceRecord(5, None, "line 5 is not one MMS id: 'not one'"),
        SourceRecord(6, None, "line 6 is not UTF-8"),
        SourceRecord(7, "993"),
    ]


def test_H1_the_kind_is_told_by_the_first_bytes(shared_reference: Path) -> None:
    assert sniff_id_source(west_sample(shared_reference, "edsu-pymarc__marc.dat")) == "iso2709"
    assert sniff_id_source(bib("991")[:30]) == "iso2709"
    assert sniff_id_source(b"\xef\xbb\xbf\n  <collection/>") == "marcxml"
    assert sniff_id_source(b"99123456780001234\n99123456780001235\n") == "list"


async def test_H1_a_file_is_read_in_a_worker_thread(tmp_path: Path) -> None:
    path = tmp_path / "export.mrc"
    path.write_bytes(bib("991") + bib("992"))
    assert ids(await read_mms_ids(path)) == ["991", "992"]
    listed = tmp_path / "ids.txt"
    listed.write_bytes(b"991\n")
    assert ids(await read_mms_ids(listed, "list")) == ["991"]


# Parsing Alma's holdings record (H3) -----------------------------------------------------------


ALMA_RECORD = (
    "<record><leader>00384nx  a2200145ui 4500</leader>"
    '<controlfield tag="001">h1</controlfield>'
    '<datafield ind1="1" ind2=" " tag="852"><subfield code="b">A &amp; B</subfield>'
    '<subfield code="h"/></datafield></record>'
)


def test_H3_alma_s_record_is_read_field_by_field() -> None:
    expected = MarcRecord(
        "00384nx  a2200145ui 4500",
        (
            ControlField("001", "h1"),
            DataField("852", "1", " ", (Subfield("b", "A & B"), Subfield("h", ""))),
        ),
    )
    assert record_from_alma_marcxml(ALMA_RECORD) == expected
    namespaced = ALMA_RECORD.replace("<record>", f'<record xmlns="{MARC_NAMESPACE}">')
    assert record_from_alma_marcxml(namespaced) == expected
    declared = '<?xml version="1.0" encoding="UTF-16"?>\n' + ALMA_RECORD
    assert record_from_alma_marcxml(declared) == expected


def test_H3_a_missing_indicator_is_blank() -> None:
    text = ALMA_RECORD.replace('ind1="1" ind2=" " ', "")
    assert record_from_alma_marcxml(text).data_fields[0].indicator1 == " "


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<record><leader>", "not well-formed"),
        ("<holding><record/></holding>", "expected a <record> element, found <holding>"),
        ("<record><controlfield tag='001'>h</controlfield></record>", "no <leader>"),
        ("<record><leader>short</leader></record>", "leader 'short' has 5 characters"),
        (f"<record><leader>{LEADER}</leader><controlfield>h</controlfield></record>", "no tag"),
        (f"<record><leader>{LEADER}</leader><item/></record>", "unexpected <item>"),
        ('<!DOCTYPE r [<!ENTITY e "x">]><record>&e;</record>', "DOCTYPE"),
        (f"<record><leader>{LEADER}</leader><leader>{LEADER}</leader></record>", "two <leader>"),
        (
            f"<record><leader>{LEADER}</leader><datafield tag='852'><b/></datafield></record>",
            "unexpected <b> in datafield",
        ),
    ],
)
def test_H3_an_unreadable_record_raises_a_typed_error_saying_what(text: str, message: str) -> None:
    with pytest.raises(MarcXmlError, match=message.replace("(", r"\(")):
        record_from_alma_marcxml(text)
