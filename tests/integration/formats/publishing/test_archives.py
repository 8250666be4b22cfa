"""Rule I2: each archive in its own directory, every unsafe or broken archive refused whole."""

from __future__ import annotations

import gzip
import io
import tarfile
import threading
import time
from pathlib import Path

import pytest

from adapters.scf.formats.archives import (
    ArchiveLimits,
    ExtractionCancelled,
    archive_stem,
    extract_archive,
)
from adapters.scf.formats.publishing import MarcPublishingFiles
from application.shared.files import ArchiveRefused

from .support import (
    collection,
    header_block,
    record,
    regular,
    special,
    write_archive,
    zeros_gzip,
)

XML = collection([record("991", items=[[("b", "B1"), ("c", "MAIN"), ("l", "rs")]])])
SMALL = ArchiveLimits(max_total_bytes=1024 * 1024, max_members=10)


@pytest.fixture
def files() -> MarcPublishingFiles:
    return MarcPublishingFiles(SMALL)


def assert_nothing_extracted(into: Path, outside: Path | None = None) -> None:
    assert not into.exists() or list(into.iterdir()) == []
    if outside is not None:
        assert not outside.exists()


async def refused(files: MarcPublishingFiles, archive: Path, into: Path) -> ArchiveRefused:
    with pytest.raises(ArchiveRefused) as caught:
        await files.unpack(archive, into)
    assert caught.value.where == archive.name
    assert_nothing_extracted(into)
    return caught.value


async def test_I2_archive_is_extracted_into_its_own_directory(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    archive = write_archive(
        tmp_path / "pub_20260101_120000[001]_new_1.tar.gz", [regular("pub_new.xml", XML)]
    )
    into = tmp_path / "xml"

    paths = await files.unpack(archive, into)

    assert paths == [into / "pub_20260101_120000[001]_new_1" / "pub_new.xml"]
    assert paths[0].read_bytes() == XML
    items = [item async for item in files.read_items(paths[0], "01AAA_AB")]
    assert [item.barcode for item in items] == ["B1"]


async def test_I2_two_archives_with_the_same_member_name_are_both_preserved(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    # The MIT fixture pattern: _new_1 and _new_2 both hold one member of the same name.
    member = "TIMDEX_ALMA_EXPORT_20220912_210929[053]_new.xml"
    first = collection([record("1", items=[[("b", "FIRST")]])])
    second = collection([record("2", items=[[("b", "SECOND")]])])
    a = write_archive(tmp_path / "EXPORT_new_1.tar.gz", [regular(member, first)])
    b = write_archive(tmp_path / "EXPORT_new_2.tgz", [regular(member, second)])
    into = tmp_path / "xml"

    [path_a] = await files.unpack(a, into)
    [path_b] = await files.unpack(b, into)

    assert path_a != path_b
    assert path_a.name == path_b.name == member
    assert path_a.read_bytes() == first
    assert path_b.read_bytes() == second


async def test_I2_the_same_archive_unpacked_twice_gets_a_new_directory(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    archive = write_archive(tmp_path / "pub_new.tar.gz", [regular("pub_new.xml", XML)])
    into = tmp_path / "xml"

    [first] = await files.unpack(archive, into)
    [second] = await files.unpack(archive, into)

    assert first.parent.name == "pub_new"
    assert second.parent.name == "pub_new-2"
    assert first.read_bytes() == second.read_bytes() == XML


async def test_I2_directories_and_non_xml_members_are_kept_but_only_xml_returned(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    archive = write_archive(
        tmp_path / "pub.tgz",
        [
            special("./", tarfile.DIRTYPE),
            special("sub", tarfile.DIRTYPE),
            regular("sub/a_new.XML", XML),
            regular("./readme.txt", b"hello"),
            regular("b_delete.xml", XML),
        ],
    )

    paths = await files.unpack(archive, tmp_path / "xml")

    root = tmp_path / "xml" / "pub"
    assert paths == [root / "sub" / "a_new.XML", root / "b_delete.xml"]
    assert (root / "readme.txt").read_bytes() == b"hello"


def test_I2_archive_stem_names_the_directory() -> None:
    assert archive_stem(Path("x_new_1.xml.tar.gz")) == "x_new_1"
    assert archive_stem(Path("X_NEW.TGZ")) == "X_NEW"
    assert archive_stem(Path("x.tar.gz")) == "x"


async def test_I2_bare_xml_is_returned_as_is(files: MarcPublishingFiles, tmp_path: Path) -> None:
    xml = tmp_path / "pub_new.xml"
    xml.write_bytes(XML)

    assert await files.unpack(xml, tmp_path / "xml") == [xml]
    assert not (tmp_path / "xml").exists()


async def test_I2_other_extensions_are_refused(files: MarcPublishingFiles, tmp_path: Path) -> None:
    other = tmp_path / "pub_new.zip"
    other.write_bytes(b"PK")

    error = await refused(files, other, tmp_path / "xml")

    assert "not a publishing archive" in error.reason


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.xml", "'..'"),
        ("sub/../../evil.xml", "'..'"),
        ("./../evil.xml", "'..'"),
        ("..\\evil.xml", "'..'"),
    ],
)
async def test_I2_tar_slip_is_refused(
    files: MarcPublishingFiles, tmp_path: Path, name: str, why: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = write_archive(tmp_path / "slip.tar.gz", [regular("ok.xml", XML), regular(name, XML)])

    error = await refused(files, archive, work / "xml")

    assert repr(name) in error.reason
    assert why in error.reason
    assert_nothing_extracted(work / "xml", outside=work / "evil.xml")


@pytest.mark.parametrize("name", ["/tmp/evil.xml", "//evil.xml", "C:/evil.xml", "\\evil.xml"])
async def test_I2_absolute_paths_are_refused(
    files: MarcPublishingFiles, tmp_path: Path, name: str
) -> None:
    archive = write_archive(tmp_path / "abs.tar.gz", [regular(name, XML)])

    error = await refused(files, archive, tmp_path / "xml")

    assert f"member {name!r}: absolute path" in error.reason


@pytest.mark.parametrize(
    ("kind", "linkname", "what"),
    [
        (tarfile.SYMTYPE, "/etc/passwd", "symbolic link to '/etc/passwd'"),
        (tarfile.SYMTYPE, "ok.xml", "symbolic link to 'ok.xml'"),
        (tarfile.LNKTYPE, "ok.xml", "hard link to 'ok.xml'"),
        (tarfile.CHRTYPE, "", "device"),
        (tarfile.BLKTYPE, "", "device"),
        (tarfile.FIFOTYPE, "", "FIFO"),
    ],
)
async def test_I2_links_devices_and_fifos_are_refused(
    files: MarcPublishingFiles, tmp_path: Path, kind: bytes, linkname: str, what: str
) -> None:
    archive = write_archive(
        tmp_path / "links.tar.gz", [regular("ok.xml", XML), special("link.xml", kind, linkname)]
    )
    error = await refused(files, archive, tmp_path / "xml")

    assert error.reason == f"member 'link.xml': {what} refused"


async def test_I2_unknown_member_types_are_refused(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    archive = write_archive(tmp_path / "odd.tar.gz", [special("odd.xml", b"Z")])

    error = await refused(files, archive, tmp_path / "xml")

    assert error.reason == "member 'odd.xml': member of type b'Z' refused"


async def test_I2_duplicate_and_conflicting_members_are_refused(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    duplicate = write_archive(
        tmp_path / "dup.tar.gz", [regular("a.xml", XML), regular("./a.xml", b"<collection/>")]
    )
    conflict = write_archive(
        tmp_path / "conflict.tar.gz", [regular("a", b"x"), regular("a/b.xml", XML)]
    )

    assert "duplicate name" in (await refused(files, duplicate, tmp_path / "xml")).reason
    assert "conflicts" in (await refused(files, conflict, tmp_path / "xml")).reason


async def test_I2_member_count_is_capped(tmp_path: Path) -> None:
    files = MarcPublishingFiles(ArchiveLimits(max_members=3))
    archive = write_archive(tmp_path / "many.tar.gz", [regular(f"{n}.xml", XML) for n in range(4)])

    error = await refused(files, archive, tmp_path / "xml")

    assert error.reason == "member '3.xml': more than 3 members (cap)"


async def test_I2_total_size_is_capped(tmp_path: Path) -> None:
    files = MarcPublishingFiles(ArchiveLimits(max_total_bytes=2500))
    archive = write_archive(
        tmp_path / "big.tar.gz", [regular(f"{n}.xml", b"x" * 1000) for n in range(3)]
    )

    error = await refused(files, archive, tmp_path / "xml")

    assert error.reason.startswith("member '2.xml': 1000 bytes would take the archive past 2500")


def write_bomb(path: Path, members: list[tuple[tarfile.TarInfo, int]]) -> Path:
    """A gzip of tar headers each followed by ``size`` zero bytes, built without ever holding
    (or compressing) the inflated data: the zeros are repeated gzip members."""
    with path.open("wb") as out:
        for info, size in members:
            out.write(gzip.compress(header_block(info)))
            out.write(zeros_gzip(size))
            out.write(gzip.compress(b"\0" * (-size % 512)))
        out.write(gzip.compress(b"\0" * 1024))  # end of archive
    return path


async def test_I2_a_decompression_bomb_stops_at_the_cap(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    # One 1 GiB member of zeros: about 1 MB on disk.
    info = tarfile.TarInfo("bomb.xml")
    info.size = 1024**3
    bomb = write_bomb(tmp_path / "bomb.tar.gz", [(info, info.size)])
    assert bomb.stat().st_size < 2 * 1024 * 1024

    started = time.monotonic()
    error = await refused(files, bomb, tmp_path / "xml")

    assert time.monotonic() - started < 2
    assert "would take the archive past 1048576 bytes (cap)" in error.reason


async def test_I2_many_small_members_stop_at_the_cap_while_streaming(tmp_path: Path) -> None:
    # 1 GiB in 1 MiB members, each under the cap on its own: refused once the running total
    # passes it, after only a few MiB have been inflated.
    files = MarcPublishingFiles(ArchiveLimits(max_total_bytes=4 * 1024 * 1024))
    members = []
    for n in range(1024):
        info = tarfile.TarInfo(f"part{n}.xml")
        info.size = 1024 * 1024
        members.append((info, info.size))
    bomb = write_bomb(tmp_path / "bomb.tar.gz", members)

    started = time.monotonic()
    error = await refused(files, bomb, tmp_path / "xml")

    assert time.monotonic() - started < 2
    assert error.reason.startswith("member 'part4.xml'")


async def test_I2_a_bomb_in_a_pax_header_stops_at_the_stream_cap(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    # tarfile reads a pax record whole before any member check could run: the decompressed
    # stream itself has to be capped, or this would be a 1 GiB read into memory.
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type = tarfile.XHDTYPE
    pax.size = 1024**3
    bomb = write_bomb(tmp_path / "pax.tar.gz", [(pax, pax.size)])

    started = time.monotonic()
    error = await refused(files, bomb, tmp_path / "xml")

    assert time.monotonic() - started < 2
    assert error.reason == f"decompresses to more than {SMALL.max_stream_bytes} bytes (cap)"


async def test_I2_data_after_the_end_of_the_tar_is_refused(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    good = write_archive(tmp_path / "good.tar.gz", [regular("a.xml", XML)])
    archive = tmp_path / "trailing.tar.gz"
    archive.write_bytes(good.read_bytes() + zeros_gzip(10 * 1024 * 1024))

    error = await refused(files, archive, tmp_path / "xml")

    assert error.reason == "unexpected data after the end of the tar archive"


async def test_I2_truncated_gzip_is_refused(files: MarcPublishingFiles, tmp_path: Path) -> None:
    good = write_archive(tmp_path / "good.tar.gz", [regular("a.xml", XML * 20)])
    data = good.read_bytes()
    cut_body = tmp_path / "cut_body.tar.gz"
    cut_body.write_bytes(data[: len(data) // 2])
    cut_trailer = tmp_path / "cut_trailer.tar.gz"
    cut_trailer.write_bytes(data[:-4])  # only the length of the gzip trailer is missing

    for archive in (cut_body, cut_trailer):
        error = await refused(files, archive, tmp_path / "xml")
        assert "truncated gzip stream" in error.reason


async def test_I2_corrupt_and_empty_archives_are_refused(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    cases = {
        "not_gzip.tar.gz": (b"this is not gzip at all" * 10, "not a valid gzip stream"),
        "not_tar.tar.gz": (gzip.compress(b"<collection/>" * 100), "not a valid tar archive"),
        "empty.tar.gz": (b"", "not a valid tar archive: empty file"),
        "bad_crc.tar.gz": (None, "not a valid gzip stream"),
    }
    good = write_archive(tmp_path / "good.tar.gz", [regular("a.xml", XML)]).read_bytes()
    for name, (data, reason) in cases.items():
        archive = tmp_path / name
        if data is None:
            # Flip one bit of the CRC in the gzip trailer.
            data = good[:-8] + bytes([good[-8] ^ 1]) + good[-7:]
        archive.write_bytes(data)
        error = await refused(files, archive, tmp_path / "xml")
        assert reason in error.reason, name


async def test_I2_a_truncated_tar_member_is_refused(
    files: MarcPublishingFiles, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("a.xml")
        info.size = len(XML * 20)
        tar.addfile(info, io.BytesIO(XML * 20))
    archive = tmp_path / "short.tar.gz"
    archive.write_bytes(gzip.compress(buffer.getvalue()[:1536]))

    error = await refused(files, archive, tmp_path / "xml")

    assert "a.xml" in error.reason or "unexpected end of data" in error.reason


def test_I2_a_cancelled_extraction_stops_and_cleans_up(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "pub.tar.gz", [regular("a.xml", XML)])
    cancelled = threading.Event()
    cancelled.set()

    with pytest.raises(ExtractionCancelled):
        extract_archive(archive, tmp_path / "xml", SMALL, cancelled)

    assert_nothing_extracted(tmp_path / "xml")


def test_I2_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ArchiveLimits(max_total_bytes=0)
