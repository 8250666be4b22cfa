"""Rules I3, I4, I7, N4, N5: publishing MARCXML streamed into PublishedItem values."""

from __future__ import annotations

import asyncio
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.scf.formats.publishing import MarcPublishingFiles, _ThreadedStream
from adapters.scf.formats.publishing_marc import iter_records, local_bib_marcxml
from application.scf.ports import PublishingFiles
from application.shared.files import MalformedFile
from domain.scf.items.published import PublishedItem

from .support import DELETED_LEADER, MARC_NS, collection, datafield, record

INST = "01AAA_AB"
ALMA = "alma-api"


@pytest.fixture
def files() -> MarcPublishingFiles:
    return MarcPublishingFiles()


def test_the_adapter_satisfies_the_port() -> None:
    port: PublishingFiles = MarcPublishingFiles()  # checked by mypy; structural at runtime
    assert callable(port.read_items)
    assert callable(port.unpack)


def parse_xml(text: str) -> ET.Element:
    """Our own output, parsed to prove it well-formed."""
    return ET.fromstring(text)  # noqa: S314 - trusted: the reader's own serialisation


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


async def read(files: MarcPublishingFiles, path: Path) -> list[PublishedItem]:
    return [item async for item in files.read_items(path, INST)]


async def malformed(
    files: MarcPublishingFiles, path: Path
) -> tuple[list[PublishedItem], MalformedFile]:
    items: list[PublishedItem] = []

    async def read_all() -> None:
        async for item in files.read_items(path, INST):
            items.append(item)

    with pytest.raises(MalformedFile) as caught:
        await read_all()
    assert caught.value.where == path.name
    return items, caught.value


# --- the real samples -------------------------------------------------------------------------


async def test_I3_temple_sample_bare_namespaced_record_with_repeated_itm(
    files: MarcPublishingFiles, shared_reference: Path
) -> None:
    # A bare <record> root in the MARC namespace; 001 after 008 and 005; two ITMs.
    path = shared_reference / ALMA / "tulibraries-tul_cob__temp_ambler_bookbot.xml"

    items = await read(files, path)

    assert len(items) == 2
    first, second = items
    assert first.member_mms_id == second.member_mms_id == "991037928537703811"
    assert first.nz_mms_id is None
    # Temple maps its own subfields; read with the SCF mapping ($b, $c, $l, $n):
    assert (first.barcode, first.library, first.location, first.internal_note_2) == (
        "1",
        "test",
        None,
        None,
    )
    assert first.record_position == second.record_position == 1
    assert first.source_file == path.name
    assert not first.deleted
    assert first.institution == INST


async def test_I3_temple_asrs_sample_four_items_and_a_local_bib(
    files: MarcPublishingFiles, shared_reference: Path
) -> None:
    path = shared_reference / ALMA / "tulibraries-tul_cob__item_level_asrs_only.xml"

    items = await read(files, path)

    assert [item.library for item in items] == ["v.1", "v.3", "v.4", "v.2"]
    assert {item.member_mms_id for item in items} == {"991002054239703811"}
    assert {item.nz_mms_id for item in items} == {None}
    # rule I7: one local bib per record, shared by its items.
    local_bib = items[0].local_bib_marcxml
    assert local_bib is not None
    assert all(item.local_bib_marcxml is local_bib for item in items)
    root = parse_xml(local_bib)
    assert root.tag == "record"
    assert root.findall("datafield[@tag='ITM']") == []
    assert [f.findtext("subfield[@code='a']") for f in root.findall("datafield[@tag='035']")][
        -1
    ] == "(01AAA_AB)991002054239703811"
    # Non-ASCII text and Temple's multi-letter subfield codes survive as published.
    assert "Wörterbuch über die Talmudim" in local_bib
    assert root.find("datafield[@tag='HLD']/subfield[@code='updated']") is not None


async def test_I3_cob_index_sample_items_without_barcode_and_records_without_items(
    files: MarcPublishingFiles, shared_reference: Path
) -> None:
    # <collection> with the MARC namespace, comments, no leaders; record 2 has only HLD.
    path = shared_reference / ALMA / "tulibraries-cob_index__extract_item.xml"

    items = await read(files, path)

    assert [(i.member_mms_id, i.record_position, i.barcode) for i in items] == [
        ("4", 1, None),
        ("5", 3, None),
    ]


def test_I3_princeton_samples_parse_with_001_after_005_and_008(shared_reference: Path) -> None:
    full = shared_reference / ALMA / "pulibrary-bibdata__publishing_full_dump_2.xml"
    scsb = shared_reference / ALMA / "pulibrary-bibdata__publishing_scsb_dump_1.xml"

    with full.open("rb") as source:
        [one] = list(iter_records(source, full.name))
    with scsb.open("rb") as source:
        three = list(iter_records(source, scsb.name))

    assert [tag for tag, *_ in (f for f in one.fields if isinstance(f, tuple))] == [
        "005",
        "008",
        "001",
    ]
    assert one.control("001") == "222222222"
    assert [f.joined("p") for f in one.data_fields("876")] == ["18635"]
    assert [r.control("001") for r in three] == [
        "9929574203506421",
        "9929574213506421",
        "9929574233506421",
    ]
    assert [r.position for r in three] == [1, 2, 3]
    assert not any(r.status_deleted for r in three)


def test_I4_princeton_deleted_record_has_leader_status_d(shared_reference: Path) -> None:
    path = shared_reference / ALMA / "pulibrary-bibdata__incremental_01_record_delete.xml"

    with path.open("rb") as source:
        [deleted] = list(iter_records(source, path.name))

    assert deleted.leader == "00378dac  2200121 u 4500"
    assert deleted.status_deleted
    assert deleted.control("001") == "99122238836006421"


# --- generated records ------------------------------------------------------------------------


async def test_I3_every_itm_is_one_item_and_a_missing_barcode_is_none(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "pub_new.xml",
        collection(
            [
                record(
                    "991",
                    items=[
                        [
                            ("b", "B1"),
                            ("c", "MAIN"),
                            ("l", "rs_shared_1"),
                            ("n", "one"),
                            ("n", "two"),
                        ],
                        [("c", "LAW"), ("l", "stacks")],
                        [("b", "  "), ("c", ""), ("l", "x")],
                    ],
                )
            ]
        ),
    )

    items = await read(files, path)

    assert [(i.barcode, i.library, i.location, i.internal_note_2) for i in items] == [
        ("B1", "MAIN", "rs_shared_1", "onetwo"),  # repeated subfields concatenated (parity)
        (None, "LAW", "stacks", None),  # no $b: the service records "skipped" (I3)
        (None, None, "x", None),  # blank counts as absent
    ]
    assert {i.record_position for i in items} == {1}


async def test_I3_namespaced_prefixed_and_plain_files_read_the_same(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    records = [
        record("991", nz_id="9911", items=[[("b", "B1"), ("c", "MAIN"), ("l", "rs")]]),
        record("992", items=[[("b", "B2")], [("b", "B3")]]),
    ]
    plain = write(tmp_path, "plain.xml", collection(records))
    default_ns = write(tmp_path, "default.xml", collection(records, namespace=True))
    prefixed_text = collection(records).decode()
    for name in ("collection", "record", "leader", "controlfield", "datafield", "subfield"):
        prefixed_text = prefixed_text.replace(f"<{name}", f"<marc:{name}")
        prefixed_text = prefixed_text.replace(f"</{name}", f"</marc:{name}")
    prefixed_text = prefixed_text.replace(
        "<marc:collection", f'<marc:collection xmlns:marc="{MARC_NS}"'
    )
    prefixed = write(tmp_path, "prefixed.xml", prefixed_text)

    results = [await read(files, path) for path in (plain, default_ns, prefixed)]

    def shape(items: list[PublishedItem]) -> list[tuple[object, ...]]:
        return [
            (
                i.member_mms_id,
                i.nz_mms_id,
                i.barcode,
                i.library,
                i.record_position,
                i.local_bib_marcxml,
            )
            for i in items
        ]

    assert shape(results[0]) == shape(results[1]) == shape(results[2])
    assert [i.barcode for i in results[0]] == ["B1", "B2", "B3"]
    assert [i.record_position for i in results[0]] == [1, 2, 2]


async def test_N5_the_nz_id_comes_from_the_first_exlnz_035(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    extra = [datafield("035", [("a", "(EXLNZ-01WRLC_NETWORK)99222"), ("a", "")])]
    path = write(
        tmp_path,
        "pub_new.xml",
        collection([record("991", nz_id="99111", extra=extra, items=[[("b", "B1")]])]),
    )

    [item] = await read(files, path)

    assert item.nz_mms_id == "99111"
    assert item.local_bib_marcxml is None  # rule I7: with an NZ id the SCF bib comes from the NZ


@pytest.mark.parametrize(
    ("name", "leader", "deleted"),
    [
        ("pub_20260101_new_1.xml", None, False),
        ("pub_20260101_delete_1.xml", None, True),
        ("PUB_DELETE.XML", None, True),
        ("pub_update.xml", None, False),
        ("pub_new.xml", DELETED_LEADER, True),  # Alma's own deleted status also counts
    ],
)
async def test_I4_delete_files_and_deleted_records(
    files: MarcPublishingFiles, tmp_path: Path, name: str, leader: str | None, deleted: bool
) -> None:
    kwargs = {"leader": leader} if leader else {}
    sub = tmp_path / "x_delete_folder"  # a folder name never makes a file a delete file
    sub.mkdir()
    path = write(sub, name, collection([record("991", items=[[("b", "B1")]], **kwargs)]))

    [item] = await read(files, path)

    assert item.deleted is deleted
    assert item.source_file == name


async def test_I7_N4_local_bib_has_the_035_and_no_itm_or_ava(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    extra = [datafield("500", [("a", 'Tricky & <text> "quoted"\ttab')], "1", " ")]
    text = collection(
        [record("991234", extra=extra, items=[[("b", "B1")], [("b", "B2")]])], namespace=True
    )
    path = write(tmp_path, "pub_new.xml", text)

    items = await read(files, path)

    local_bib = items[0].local_bib_marcxml
    assert local_bib is not None
    assert local_bib.startswith("<record><leader>01234cam a2200361 a 4500</leader>")
    assert "xmlns" not in local_bib
    assert "ITM" not in local_bib
    assert "AVA" not in local_bib
    root = parse_xml(local_bib)  # well-formed
    assert root.tag == "record"
    assert [c.get("tag") for c in root.findall("controlfield")] == ["005", "008", "001"]
    tags = [f.get("tag") for f in root.findall("datafield")]
    assert tags == ["035", "245", "500", "035"]  # appended at the end, as the Java app did
    added = root.findall("datafield")[-1]
    assert (added.get("ind1"), added.get("ind2")) == (" ", " ")
    assert [(s.get("code"), s.text) for s in added] == [("a", "(01AAA_AB)991234")]
    assert root.find("datafield[@tag='500']/subfield").text == 'Tricky & <text> "quoted"\ttab'  # type: ignore[union-attr]
    assert root.find("datafield[@tag='500']").get("ind1") == "1"  # type: ignore[union-attr]


_xml_text = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters="\x00\ufffe\uffff",
        min_codepoint=0x20,
    )
    | st.sampled_from("\t\n"),
    max_size=30,
)


@given(
    values=st.lists(_xml_text, min_size=1, max_size=4), tag=st.sampled_from(["500", "ITM", "9XX"])
)
def test_I7_local_bib_round_trips_any_text(values: list[str], tag: str) -> None:
    subfields = [("a", value) for value in values]
    data = collection([record("991", extra=[datafield(tag, subfields)])])

    [parsed] = list(iter_records(io.BytesIO(data), "gen.xml"))
    root = parse_xml(local_bib_marcxml(parsed, INST, "991"))

    # expat turns a lone CR into LF on input, as any XML parser must.
    expected = [value.replace("\r", "\n") for value in values] if tag != "ITM" else None
    kept = root.find(f"datafield[@tag='{tag}']")
    if expected is None:
        assert kept is None
    else:
        assert kept is not None
        assert [s.text or "" for s in kept] == expected


async def test_I3_declared_encoding_is_honoured(files: MarcPublishingFiles, tmp_path: Path) -> None:
    text = collection([record("991", items=[[("b", "B1"), ("l", "Bücher")]])]).decode()
    text = text.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path = write(tmp_path, "latin1.xml", text.encode("latin-1"))

    [item] = await read(files, path)

    assert item.location == "Bücher"


# --- malformed files --------------------------------------------------------------------------


async def test_I3_a_record_without_001_stops_the_file_naming_the_record(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    records = [record("991", items=[[("b", "B1")]]), record(None, items=[[("b", "B2")]])]
    path = write(tmp_path, "pub_new.xml", collection(records))

    items, error = await malformed(files, path)

    assert [i.barcode for i in items] == ["B1"]  # what came before was delivered
    assert error.position == "record 2, line 4"
    assert "no 001" in error.reason
    assert str(error) == "pub_new.xml at record 2, line 4: record has no 001 (member MMS id)"


@pytest.mark.parametrize(
    ("data", "position", "reason"),
    [
        (
            collection([record("991", items=[[("b", "B1")]]), record("992")])[:-60],
            "record 2, line 4, column",
            "unclosed token",
        ),
        (
            b"<collection><record><leader>x</record></collection>",
            "record 1, line 1, column 32",
            "mismatched tag",
        ),
        (b"", "before the first record, line 1, column 1", "no element found"),
        (
            b"<collection><record></record></collection>junk",
            "after record 1, line 1, column 43",
            "junk after",
        ),
        (
            b"<bibs><bib/></bibs>",
            "before the first record, line 1, column 1",
            "not MARCXML: root element <bibs>",
        ),
        (
            b'<collection xmlns="urn:other"><record/></collection>',
            "before the first record, line 1, column 1",
            "not MARCXML: element <collection> in namespace 'urn:other'",
        ),
        (
            b"<collection><bib/></collection>",
            "before the first record, line 1, column 13",
            "unexpected <bib> in <collection>",
        ),
        (
            b"<collection><record><datafield tag='ITM'><x/></datafield></record></collection>",
            "record 1, line 1, column 42",
            "unexpected <x> in record 1",
        ),
        (
            b"<collection><record><datafield/></record></collection>",
            "record 1, line 1, column 21",
            "<datafield> without tag",
        ),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n<collection/>',
            "before the first record, line 2, column 1",
            "a DOCTYPE is not allowed",
        ),
        (b'<?xml version="1.0" encoding="no-such-codec"?><collection/>', "line 1", "encoding"),
    ],
)
async def test_I2_malformed_xml_names_file_and_position(
    files: MarcPublishingFiles, tmp_path: Path, data: bytes, position: str, reason: str
) -> None:
    path = write(tmp_path, "broken_new.xml", data)

    _, error = await malformed(files, path)

    assert position in error.position
    assert reason in error.reason


async def test_I2_a_huge_text_node_is_refused_without_holding_it(tmp_path: Path) -> None:
    path = tmp_path / "huge_new.xml"
    with path.open("w") as out:
        out.write("<collection><record><controlfield tag='001'>")
        for _ in range(20):
            out.write("9" * 1024 * 1024)
        out.write("</controlfield></record></collection>")

    _, error = await malformed(MarcPublishingFiles(), path)

    assert "more than 16777216 characters" in error.reason
    assert error.position.startswith("record 1, line 1")


# --- streaming --------------------------------------------------------------------------------


async def test_I3_leaving_early_stops_the_parser(tmp_path: Path) -> None:
    files = MarcPublishingFiles(batch_size=1, queue_batches=1)
    records = [record(str(n), items=[[("b", f"B{n}")]]) for n in range(2000)]
    path = write(tmp_path, "pub_new.xml", collection(records))

    stream = files.read_items(path, INST)
    first = await anext(stream)
    await asyncio.wait_for(stream.aclose(), 10)  # returns only once the worker thread has

    assert first.barcode == "B0"


async def test_I3_a_cancelled_reader_stops_the_parser(tmp_path: Path) -> None:
    files = MarcPublishingFiles(batch_size=1, queue_batches=1)
    records = [record(str(n), items=[[("b", f"B{n}")]]) for n in range(2000)]
    path = write(tmp_path, "pub_new.xml", collection(records))
    first_item = asyncio.Event()

    async def slow_consumer() -> None:
        async for _ in files.read_items(path, INST):
            first_item.set()
            await asyncio.Event().wait()  # never set: the consumer is stuck until cancelled

    task = asyncio.create_task(slow_consumer())
    await first_item.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)  # the reader's clean-up returned: the worker is done


async def test_I3_the_parser_never_runs_more_than_the_queue_ahead() -> None:
    produced = 0
    batch_size, queue_batches = 10, 2

    def produce() -> Iterator[PublishedItem]:
        nonlocal produced
        for n in range(5000):
            produced += 1
            yield PublishedItem(INST, str(n), None, str(n), None, None, None, False, "f", n)

    stream = _ThreadedStream(produce, batch_size, queue_batches)
    consumed = 0
    try:
        while (batch := await stream.next_batch()) is not None:
            for _ in batch:
                consumed += 1
                # queued batches + the one handed out + the one being filled (+1 in flight)
                assert produced - consumed <= batch_size * (queue_batches + 2) + 1
    finally:
        await stream.close()

    assert consumed == produced == 5000


async def test_I3_a_failure_in_the_parser_thread_reaches_the_consumer_after_earlier_items() -> None:
    def produce() -> Iterator[PublishedItem]:
        yield PublishedItem(INST, "1", None, "B1", None, None, None, False, "f", 1)
        raise RuntimeError("disk gone")

    stream = _ThreadedStream(produce, 10, 2)
    try:
        assert [i.barcode for i in await stream.next_batch() or []] == ["B1"]
        with pytest.raises(RuntimeError, match="disk gone"):
            await stream.next_batch()
    finally:
        await stream.close()
