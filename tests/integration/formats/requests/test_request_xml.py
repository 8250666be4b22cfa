"""The remote-storage request export reader on real files (rule R2; R4 for a missing barcode)."""

from __future__ import annotations

import asyncio
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.scf.formats.request_xml import MAX_FIELD_CHARS, XmlRequestFiles
from application.scf.ports import RequestFiles
from application.shared.files import MalformedFile
from domain.scf.requests.routing import (
    PATRON_PHYSICAL,
    PHYSICAL_TO_DIGITIZATION,
    RESOURCE_SHARING_P2D_SHIPMENT,
    STAFF_PHYSICAL_DIGITIZATION,
    PatronInfo,
    RemoteStorageRequest,
    Route,
    route_request,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "requests"
ALMA_EXPORT = FIXTURES / "alma_export.xml"
XB = "http://com/exlibris/urm/rep/externalsysremotestorage/xmlbeans"

ALMA_EXPORT_REQUESTS = [
    RemoteStorageRequest(
        request_id="1234567890000121",
        request_type=PATRON_PHYSICAL,
        barcode="31234000123456",
        mms_id="991234560000121",
        description=None,
        pickup_library_name="AB Main Library",
        library_code="MAIN",
        request_note="Rush, please",
    ),
    RemoteStorageRequest(
        request_id="1234567890000122",
        request_type=PHYSICAL_TO_DIGITIZATION,
        barcode="31234000654321",
        mms_id="991234570000121",
        description="v.12 no.3 (2019)",
        pickup_library_name="AB Main Library",
        library_code="MAIN",
        patron=PatronInfo(
            name="Doe, Jane",
            identifier="JD001",
            email="jd@example.edu",
            address="1 Main St\nSpringfield",
        ),
    ),
    RemoteStorageRequest(
        request_id="1234567890000123",
        request_type=STAFF_PHYSICAL_DIGITIZATION,
        barcode="31234000777777",
        mms_id="991234580000121",
        description="Plate 4",
        pickup_library_name="AB Science Library",
        library_code="SCI",
    ),
    RemoteStorageRequest(
        request_id="1234567890000124",
        request_type=RESOURCE_SHARING_P2D_SHIPMENT,
        barcode="31234000888888",
        mms_id="991234590000121",
        description=None,
        pickup_library_name="AB Main Library",
    ),
    RemoteStorageRequest(
        request_id="1234567890000125",
        request_type=PATRON_PHYSICAL,
        barcode="Moby Dick : or, the whale",
        mms_id="991234600000121",
        institution_code="01AAA_CD",
        pickup_library_name="CD Main Library",
        library_code="CDMAIN",
    ),
    RemoteStorageRequest(
        request_id="1234567890000126",
        request_type=PATRON_PHYSICAL,
        barcode=None,
        mms_id="991234610000121",
        description=None,
        pickup_library_name="AB Main Library",
    ),
]


async def read(path: Path, *, chunk_bytes: int | None = None) -> list[RemoteStorageRequest]:
    files = XmlRequestFiles() if chunk_bytes is None else XmlRequestFiles(chunk_bytes)
    return [request async for request in files.read_requests(path)]


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def export(*requests: str) -> str:
    """A file in the default namespace around some ``rsExport`` bodies."""
    body = "".join(f"<rsExport>{request}</rsExport>" for request in requests)
    return f'<?xml version="1.0"?>\n<rsExportList xmlns="{XB}">{body}</rsExportList>\n'


async def malformed(path: Path, *, chunk_bytes: int | None = None) -> MalformedFile:
    with pytest.raises(MalformedFile) as raised:
        await read(path, chunk_bytes=chunk_bytes)
    return raised.value


def test_R2_the_adapter_satisfies_the_port() -> None:
    files: RequestFiles = XmlRequestFiles()
    assert callable(files.read_requests)


# -- Alma's real structure ----------------------------------------------------------------------


async def test_R2_alma_export_every_request_type_in_file_order() -> None:
    assert await read(ALMA_EXPORT) == ALMA_EXPORT_REQUESTS


async def test_R2_alma_export_routes_as_rule_R4_says() -> None:
    routes = [route_request(request) for request in await read(ALMA_EXPORT)]
    assert routes == [
        Route.ITEM_HOLD,
        Route.PATRON_ITEM_DIGITIZATION,
        Route.STAFF_ITEM_DIGITIZATION,
        Route.STAFF_ITEM_DIGITIZATION,
        Route.TITLE_HOLD,  # barcode with a space and a colon: title level
        Route.TITLE_HOLD,  # no barcode element: title level, not a crash (R4 fix)
    ]


@pytest.mark.parametrize("chunk_bytes", [1, 7, 64, 1 << 20])
async def test_R2_any_chunk_size_reads_the_same_requests(chunk_bytes: int) -> None:
    assert await read(ALMA_EXPORT, chunk_bytes=chunk_bytes) == ALMA_EXPORT_REQUESTS


async def test_R2_default_namespace_instead_of_a_prefix(tmp_path: Path) -> None:
    text = ALMA_EXPORT.read_text("utf-8").replace("xmlns:xb=", "xmlns=").replace("xb:", "")
    assert f'<rsExportList xmlns="{XB}"' in text
    assert await read(write(tmp_path, "default_ns.xml", text)) == ALMA_EXPORT_REQUESTS


async def test_R2_no_namespace_at_all(tmp_path: Path) -> None:
    text = ALMA_EXPORT.read_text("utf-8").replace(f' xmlns:xb="{XB}"', "").replace("xb:", "")
    assert XB not in text
    assert await read(write(tmp_path, "no_ns.xml", text)) == ALMA_EXPORT_REQUESTS


async def test_R2_another_prefix_and_another_uri(tmp_path: Path) -> None:
    text = ALMA_EXPORT.read_text("utf-8").replace("xb:", "rs:").replace(XB, "urn:elsewhere")
    assert await read(write(tmp_path, "other_prefix.xml", text)) == ALMA_EXPORT_REQUESTS


async def test_R2_an_undeclared_prefix_is_accepted_like_the_java_parser_did(
    tmp_path: Path,
) -> None:
    text = ALMA_EXPORT.read_text("utf-8").replace(f' xmlns:xb="{XB}"', "")
    assert await read(write(tmp_path, "undeclared.xml", text)) == ALMA_EXPORT_REQUESTS


# -- the Java app's constructed example (research scf-java-app.md §7.2) -------------------------


async def test_R2_java_constructed_example_with_alma_names_reads_every_field(
    tmp_path: Path,
) -> None:
    # The example's root and request names are illustrative (research §7.2): with Alma's names,
    # every field the Java parser reads comes out, institutionCode found inside pickup.
    text = (FIXTURES / "java_constructed_example.xml").read_text("utf-8")
    text = text.replace("xb:root", "xb:rsExportList").replace("xb:request>", "xb:rsExport>")
    assert await read(write(tmp_path, "java_example.xml", text)) == [
        RemoteStorageRequest(
            request_id="1234567890000121",
            request_type=PATRON_PHYSICAL,
            barcode="31234000123456",
            mms_id="991234560000121",
            description="v.2",
            institution_code="01AAA_CD",
            pickup_library_name="CD Main Library",
            library_code=None,
            patron=PatronInfo(
                name="Doe, Jane",
                identifier="JD001",
                email="jd@example.edu",
                address="1 Main St",
            ),
            request_note="Rush",
        )
    ]


async def test_R2_java_constructed_example_as_written_has_no_rsExportList_root() -> None:
    error = await malformed(FIXTURES / "java_constructed_example.xml")
    assert error.where == "java_constructed_example.xml"
    assert error.position == "line 2, column 1"
    assert "<xb:root>" in error.reason
    assert "rsExportList" in error.reason


# -- encodings ----------------------------------------------------------------------------------

ACCENTED = RemoteStorageRequest(
    request_id="1234567890000131",
    request_type=PHYSICAL_TO_DIGITIZATION,
    barcode="31234000999999",
    description="Année 1987, cahier n°2",
    pickup_library_name="Bibliothèque de génie",
    patron=PatronInfo(
        name="Müller, Zoë Ångström-Núñez",
        identifier="ZMN42",
        email="zoe@example.edu",
        address="12 rue de l'Église, Genève",
    ),
)


async def test_R2_iso_8859_1_declared_and_encoded() -> None:
    raw = (FIXTURES / "iso_8859_1.xml").read_bytes()
    assert "Müller".encode("iso-8859-1") in raw  # the fixture really is Latin-1, not UTF-8
    assert await read(FIXTURES / "iso_8859_1.xml") == [ACCENTED]


async def test_R2_utf8_with_a_byte_order_mark() -> None:
    assert (FIXTURES / "utf8_bom.xml").read_bytes().startswith(b"\xef\xbb\xbf")
    assert await read(FIXTURES / "utf8_bom.xml") == [ACCENTED]


async def test_R2_utf16_with_a_byte_order_mark(tmp_path: Path) -> None:
    text = (FIXTURES / "utf8_bom.xml").read_bytes().decode("utf-8-sig")
    text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path = write(tmp_path, "utf16.xml", text.encode("utf-16"))
    assert await read(path) == [ACCENTED]


async def test_R2_windows_1252_through_a_python_codec(tmp_path: Path) -> None:
    text = (
        '<?xml version="1.0" encoding="windows-1252"?>'
        + export("<requestId>1</requestId><requestNote>€ 5 – “rush”</requestNote>").split("?>", 1)[
            1
        ]
    )
    path = write(tmp_path, "cp1252.xml", text.encode("windows-1252"))
    assert await read(path) == [RemoteStorageRequest(request_id="1", request_note="€ 5 – “rush”")]


async def test_R2_an_unknown_encoding_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, "klingon.xml", '<?xml version="1.0" encoding="x-klingon"?><a/>')
    error = await malformed(path)
    assert error.where == "klingon.xml"
    assert "encoding" in error.reason


async def test_R2_bytes_that_contradict_the_declared_encoding_are_malformed(
    tmp_path: Path,
) -> None:
    text = export("<requestId>1</requestId><requestNote>Zoë</requestNote>")
    path = write(tmp_path, "latin1_claims_utf8.xml", text.encode("iso-8859-1"))
    error = await malformed(path)
    assert error.position.startswith("line 2, ")
    assert "in request 1" in error.reason


# -- whitespace, comments, field rules ----------------------------------------------------------


async def test_R2_comments_and_processing_instructions_inside_text_and_between_requests(
    tmp_path: Path,
) -> None:
    text = export(
        "<!-- c --><?pi x?>\n  <requestId>\n 7 \n</requestId>"
        "<barcode>3123<!-- split -->4000<?pi?>1</barcode>",
    ).replace("</rsExport>", "</rsExport>\n<!-- between -->\n  ")
    assert await read(write(tmp_path, "comments.xml", text)) == [
        RemoteStorageRequest(request_id="7", barcode="312340001")
    ]


async def test_R2_R4_whitespace_only_or_empty_barcode_is_no_barcode(tmp_path: Path) -> None:
    # Stripped to nothing, a barcode is absent (None): rule R4 then makes a title hold, where
    # the Java app would have treated " " as title-level text or crashed on a missing one.
    text = export(
        "<requestId>1</requestId><barcode>   \n\t </barcode>",
        "<requestId>2</requestId><barcode/>",
        "<requestId>3</requestId>",
    )
    requests = await read(write(tmp_path, "blank_barcodes.xml", text))
    assert [request.barcode for request in requests] == [None, None, None]
    assert {route_request(request) for request in requests} == {Route.TITLE_HOLD}


async def test_R2_missing_request_id_and_type_default_to_empty_and_others_survive(
    tmp_path: Path,
) -> None:
    # A request without requestId cannot be forwarded or deduplicated, but refusing the file
    # would lose its neighbours: it is yielded with "" (Java's default) for the service to record.
    text = export(
        "<requestId>1</requestId><requestType>PATRON_PHYSICAL</requestType>",
        "<barcode>31234000123456</barcode>",
        "<requestId>  </requestId><requestType/>",
        "<requestId>4</requestId>",
    )
    requests = await read(write(tmp_path, "no_ids.xml", text))
    assert [(r.request_id, r.request_type) for r in requests] == [
        ("1", PATRON_PHYSICAL),
        ("", ""),
        ("", ""),
        ("4", ""),
    ]
    assert requests[1].barcode == "31234000123456"


async def test_R2_first_descendant_wins_like_getElementsByTagName(tmp_path: Path) -> None:
    text = export(
        "<requestId>1</requestId>"
        "<wrapper><barcode>FIRST</barcode></wrapper><barcode>SECOND</barcode>"
        "<description>direct</description><requestedInfo><description>nested</description>"
        "</requestedInfo>"
        "<library>not in pickup</library><pickup><desk>D</desk><library>Pickup Name</library>"
        "</pickup><pickup><library>second pickup</library></pickup>"
        "<patronName>not in patronInfo</patronName>"
        "<patronInfo><patronName>Inside</patronName></patronInfo>"
        "<patronInfo><patronEmail>second@example.edu</patronEmail></patronInfo>"
    )
    [request] = await read(write(tmp_path, "first.xml", text))
    assert request.barcode == "FIRST"
    assert request.description == "direct"
    assert request.pickup_library_name == "Pickup Name"
    assert request.patron == PatronInfo(name="Inside")


async def test_R2_library_code_is_kept_even_with_an_institution_code(tmp_path: Path) -> None:
    # The Java app read libraryCode only without institutionCode; domain.scf.requests.pickup
    # applies that preference, so the reader keeps both raw values.
    text = export(
        "<requestId>1</requestId><institutionCode>01AAA_CD</institutionCode>"
        "<libraryCode>CDMAIN</libraryCode>"
    )
    [request] = await read(write(tmp_path, "both.xml", text))
    assert (request.institution_code, request.library_code) == ("01AAA_CD", "CDMAIN")


async def test_R2_patron_info_only_when_present_and_missing_children_are_none(
    tmp_path: Path,
) -> None:
    text = export(
        "<requestId>1</requestId><patronInfo/>",
        "<requestId>2</requestId><patronInfo><patronIdentifier> P2 </patronIdentifier>"
        "<patronEmail xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' xsi:nil='true'/>"
        "</patronInfo>",
        "<requestId>3</requestId>",
    )
    requests = await read(write(tmp_path, "patrons.xml", text))
    assert [request.patron for request in requests] == [
        PatronInfo(),
        PatronInfo(identifier="P2"),
        None,
    ]


async def test_R2_other_elements_directly_under_the_root_are_not_requests(tmp_path: Path) -> None:
    text = export("<requestId>1</requestId>").replace(
        "<rsExport>", "<summary><requestId>X</requestId></summary><rsExport>"
    )
    assert await read(write(tmp_path, "summary.xml", text)) == [
        RemoteStorageRequest(request_id="1")
    ]


async def test_R2_an_empty_export_has_no_requests(tmp_path: Path) -> None:
    path = write(tmp_path, "empty_list.xml", f'<xb:rsExportList xmlns:xb="{XB}"/>')
    assert await read(path) == []


async def test_R2_a_huge_field_is_refused_rather_than_held(tmp_path: Path) -> None:
    text = export(
        "<requestId>1</requestId>", f"<requestNote>{'x' * (MAX_FIELD_CHARS + 1)}</requestNote>"
    )
    error = await malformed(write(tmp_path, "huge.xml", text))
    assert "requestNote" in error.reason
    assert "in request 2" in error.reason


# -- malformed and refused files ----------------------------------------------------------------


@pytest.mark.parametrize("chunk_bytes", [1, 256, 1 << 20])
async def test_R2_truncated_file_yields_the_complete_requests_then_names_file_and_line(
    tmp_path: Path, chunk_bytes: int
) -> None:
    raw = ALMA_EXPORT.read_bytes()
    cut = raw.index(b"<xb:barcode>31234000777777")  # inside the third request
    path = write(tmp_path, "requests_20240101.xml", raw[:cut])
    got: list[RemoteStorageRequest] = []

    async def consume() -> None:
        async for request in XmlRequestFiles(chunk_bytes).read_requests(path):
            got.append(request)

    with pytest.raises(MalformedFile) as raised:
        await consume()
    assert got == ALMA_EXPORT_REQUESTS[:2]
    error = raised.value
    last_line = raw[:cut].count(b"\n") + 1
    assert error.where == "requests_20240101.xml"
    assert error.position.startswith(f"line {last_line}, column ")
    assert "no element found" in error.reason
    assert "in request 3" in error.reason
    assert str(error).startswith(f"requests_20240101.xml at line {last_line}, column ")


async def test_R2_mismatched_tag_names_its_line_and_column(tmp_path: Path) -> None:
    text = export("<requestId>1</requestId>") + ""
    text = text.replace("</requestId>", "</requestID>")
    error = await malformed(write(tmp_path, "mismatch.xml", text))
    assert error.reason.startswith("mismatched tag")
    # expat points at the name of the closing tag; columns are counted from 1.
    column = text.splitlines()[1].index("</requestID>") + len("</") + 1
    assert error.position == f"line 2, column {column}"


@pytest.mark.parametrize("content", [b"", b"   \n", b"\xef\xbb\xbf", b"<!-- only a comment -->"])
async def test_R2_a_file_without_a_root_element_is_malformed(
    tmp_path: Path, content: bytes
) -> None:
    error = await malformed(write(tmp_path, "empty.xml", content))
    assert error.reason == "no element found"
    assert error.position.startswith("line ")


async def test_R2_junk_after_the_list_is_malformed_after_its_requests(tmp_path: Path) -> None:
    text = export("<requestId>1</requestId>") + "<rsExportList/>"
    error = await malformed(write(tmp_path, "two_roots.xml", text))
    assert "junk after document element" in error.reason
    assert "after 1 complete requests" in error.reason


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
async def test_R2_a_doctype_is_refused_before_any_entity(name: str) -> None:
    error = await malformed(FIXTURES / name)
    assert error.where == name
    assert "DOCTYPE" in error.reason
    assert error.position.startswith("line 2, ")


async def test_R2_a_publishing_file_in_the_wrong_folder_is_not_a_request_file(
    shared_reference: Path,
) -> None:
    publishing = (
        shared_reference / "alma-api" / "pulibrary-bibdata__incremental_01_record_delete.xml"
    )
    error = await malformed(publishing)
    assert error.where == publishing.name
    assert error.position == "line 2, column 1"
    assert error.reason == (
        "the root element is <collection>, not rsExportList: not a remote-storage request file"
    )


async def test_R2_a_missing_file_is_an_os_error_not_a_malformed_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await read(tmp_path / "gone.xml")


# -- streaming ----------------------------------------------------------------------------------


def many_requests(count: int) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<xb:rsExportList xmlns:xb="{XB}">\n'.encode()
    for number in range(count):
        yield (
            f"  <xb:rsExport><xb:requestType>PATRON_PHYSICAL</xb:requestType>"
            f"<xb:requestId>{number}</xb:requestId><xb:pickup><xb:library>Main</xb:library>"
            f"</xb:pickup><xb:barcode>3123400{number:07d}</xb:barcode>"
            f"<xb:mmsId>99{number:010d}0121</xb:mmsId><xb:title>{'T' * 200}</xb:title>"
            f"<xb:requestedInfo><xb:description>v.{number}</xb:description></xb:requestedInfo>"
            f"</xb:rsExport>\n"
        ).encode()
    yield b"</xb:rsExportList>\n"


async def test_R2_a_large_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "large.xml"
    with path.open("wb") as out:
        out.writelines(many_requests(20_000))
    size = path.stat().st_size
    assert size > 9_000_000
    count = 0
    tracemalloc.start()
    try:
        async for request in XmlRequestFiles().read_requests(path):
            assert request.request_id == str(count)
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert peak < 2_000_000, f"peak {peak} bytes for a {size} byte file"


async def test_R2_parsing_does_not_block_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "large.xml"
    with path.open("wb") as out:
        out.writelines(many_requests(5_000))
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        count = 0
        async for _ in XmlRequestFiles(chunk_bytes=16 * 1024).read_requests(path):
            count += 1
    finally:
        task.cancel()
    assert count == 5_000
    # Every chunk is parsed in a worker thread while the loop keeps running other tasks.
    assert ticks > 100


# -- any bytes: requests or MalformedFile, never another exception -----------------------------

FRAGMENTS = [
    '<?xml version="1.0"?>',
    '<?xml version="1.0" encoding="ISO-8859-1"?>',
    '<?xml version="1.0" encoding="x-unknown"?>',
    '<?xml version="1.0" encoding="shift_jis"?>',
    '<?xml version="1.0" encoding="UTF-16"?>',
    "<!DOCTYPE a>",
    '<!DOCTYPE a [<!ENTITY e "x">]>',
    f'<xb:rsExportList xmlns:xb="{XB}">',
    "</xb:rsExportList>",
    "<rsExportList>",
    "</rsExportList>",
    "<rsExport>",
    "</rsExport>",
    "<xb:rsExport>",
    "</xb:rsExport>",
    "<barcode>",
    "</barcode>",
    "<requestId>",
    "</requestId>",
    "<pickup>",
    "</pickup>",
    "<library>",
    "</library>",
    "<patronInfo>",
    "</patronInfo>",
    "<patronName>",
    "</patronName>",
    '<description xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true">',
    "</description>",
    "<!-- c -->",
    "<?pi?>",
    "<![CDATA[x]]>",
    "&amp;",
    "&e;",
    "&#0;",
    "&#xE9;",
    "x:y",
    " ",
    "\n",
    "é",
    "\x00",
]


def read_sync(content: bytes) -> list[RemoteStorageRequest]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.xml"
        path.write_bytes(content)
        return asyncio.run(read(path, chunk_bytes=5))


def check_any_bytes(content: bytes) -> None:
    failure: MalformedFile | None = None
    requests: list[RemoteStorageRequest] = []
    try:
        requests = read_sync(content)
    except MalformedFile as error:
        failure = error
    if failure is not None:
        assert failure.where == "any.xml"
        assert failure.position.startswith("line ")
    for request in requests:
        assert isinstance(request.request_id, str)
        assert isinstance(request.request_type, str)
        assert request.barcode is None or request.barcode.strip() == request.barcode != ""


xml_ish = st.lists(st.sampled_from(FRAGMENTS), max_size=30).flatmap(
    lambda parts: st.sampled_from(["utf-8", "iso-8859-1", "utf-16"]).map(
        lambda encoding: "".join(parts).encode(encoding, errors="replace")
    )
)
mutated_export = st.tuples(
    st.integers(0, len(ALMA_EXPORT.read_bytes())), st.binary(max_size=4)
).map(lambda cut: ALMA_EXPORT.read_bytes()[: cut[0]] + cut[1])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), xml_ish, mutated_export))
def test_R2_any_bytes_yield_requests_or_raise_malformed_file(content: bytes) -> None:
    check_any_bytes(content)


# -- generated well-formed exports come back field for field ----------------------------------

# XML 1.0 characters, without "\r" (expat turns line ends into "\n", as XML requires).
xml_text = st.text(
    st.characters(
        codec="utf-8",
        exclude_characters="\r",
        min_codepoint=0x09,
    ).filter(lambda char: char in "\t\n" or (ord(char) >= 0x20 and char not in "\ufffe\uffff")),
    max_size=12,
)
SCALAR_ELEMENTS = [
    "requestId",
    "requestType",
    "barcode",
    "mmsId",
    "institutionCode",
    "libraryCode",
    "requestNote",
]
PATRON_ELEMENTS = {
    "patronName": "name",
    "patronIdentifier": "identifier",
    "patronEmail": "email",
    "patronAddress": "address",
}
request_fields = st.fixed_dictionaries(
    {},
    optional={
        **{element: xml_text for element in SCALAR_ELEMENTS},
        "description": xml_text,
        "library": xml_text,
        "patronInfo": st.fixed_dictionaries(
            {}, optional={element: xml_text for element in PATRON_ELEMENTS}
        ),
    },
)


Fields = dict[str, str | dict[str, str]]


def optional(fields: Fields | dict[str, str], name: str) -> str | None:
    value = fields.get(name)
    return value.strip() or None if isinstance(value, str) else None


def expected(fields: Fields) -> RemoteStorageRequest:
    patron_fields = fields.get("patronInfo")
    patron = None
    if isinstance(patron_fields, dict):
        patron = PatronInfo(
            **{attribute: optional(patron_fields, e) for e, attribute in PATRON_ELEMENTS.items()}
        )
    return RemoteStorageRequest(
        request_id=optional(fields, "requestId") or "",
        request_type=optional(fields, "requestType") or "",
        barcode=optional(fields, "barcode"),
        mms_id=optional(fields, "mmsId"),
        institution_code=optional(fields, "institutionCode"),
        library_code=optional(fields, "libraryCode"),
        request_note=optional(fields, "requestNote"),
        description=optional(fields, "description"),
        pickup_library_name=optional(fields, "library"),
        patron=patron,
    )


def element(prefix: str, name: str, content: str) -> str:
    return f"<{prefix}{name}>{content}</{prefix}{name}>"


def request_xml(prefix: str, fields: Fields) -> str:
    parts: list[str] = []
    for name, value in fields.items():
        if name == "library":
            parts.append(element(prefix, "pickup", element(prefix, "library", escape(str(value)))))
        elif name == "description":
            inner = element(prefix, "description", escape(str(value)))
            parts.append(element(prefix, "requestedInfo", inner))
        elif isinstance(value, dict):
            inner = "".join(element(prefix, k, escape(v)) for k, v in value.items())
            parts.append(element(prefix, "patronInfo", inner))
        else:
            parts.append(element(prefix, name, escape(str(value))))
    return element(prefix, "rsExport", "\n    ".join(parts))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(request_fields, max_size=5),
    st.sampled_from(["", "xb:"]),
    st.sampled_from(["UTF-8", "UTF-16", "ISO-8859-1", "US-ASCII"]),
)
def test_R2_generated_exports_come_back_field_for_field(
    requests: list[Fields], prefix: str, encoding: str
) -> None:
    declaration = f'xmlns:xb="{XB}"' if prefix else f'xmlns="{XB}"'
    body = "\n  ".join(request_xml(prefix, fields) for fields in requests)
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f"<{prefix}rsExportList {declaration}>\n  {body}\n</{prefix}rsExportList>\n"
    )
    # Characters the encoding lacks become character references, as a real writer would do.
    content = text.encode(encoding.replace("UTF-16", "utf-16"), errors="xmlcharrefreplace")
    assert read_sync(content) == [expected(fields) for fields in requests]
