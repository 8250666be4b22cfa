"""Builders for the publishing tests: crafted tar.gz archives and generated MARCXML records."""

from __future__ import annotations

import functools
import gzip
import io
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MARC_NS = "http://www.loc.gov/MARC21/slim"
LEADER = "01234cam a2200361 a 4500"
DELETED_LEADER = "01234dam a2200361 a 4500"

Subfields = Sequence[tuple[str, str]]


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes | None]:
    """A regular-file member."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, bytes | None]:
    """A member of another type: symlink, hard link, device, FIFO, directory."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


def write_archive(path: Path, members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    """A .tar.gz holding these members exactly as given (no name sanitising)."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


@functools.cache
def _zeros_member(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9)


def zeros_gzip(total: int, piece: int = 1024 * 1024) -> bytes:
    """``total`` zero bytes as concatenated gzip members: a few KB that inflate to ``total``."""
    count, rest = divmod(total, piece)
    return _zeros_member(piece) * count + (_zeros_member(rest) if rest else b"")


def header_block(info: tarfile.TarInfo) -> bytes:
    """One raw ustar header block (no pax or long-name records added)."""
    return info.tobuf(tarfile.USTAR_FORMAT, "utf-8", "surrogateescape")


def datafield(tag: str, subfields: Subfields, ind1: str = " ", ind2: str = " ") -> str:
    """One MARCXML datafield."""
    inner = "".join(f"<subfield code={quoteattr(c)}>{escape(v)}</subfield>" for c, v in subfields)
    attributes = f"tag={quoteattr(tag)} ind1={quoteattr(ind1)} ind2={quoteattr(ind2)}"
    return f"<datafield {attributes}>{inner}</datafield>"


def record(
    mms_id: str | None,
    *,
    leader: str = LEADER,
    nz_id: str | None = None,
    items: Sequence[Subfields] = (),
    extra: Sequence[str] = (),
) -> str:
    """An Alma-shaped record: leader, 005 and 008 before 001, 035s, 245, AVA, ITMs."""
    parts = [
        f"<leader>{leader}</leader>",
        '<controlfield tag="005">20200824142410.0</controlfield>',
        '<controlfield tag="008">991123s1999    bl       b    000 0 por  </controlfield>',
    ]
    if mms_id is not None:
        parts.append(f'<controlfield tag="001">{mms_id}</controlfield>')
    parts.append(datafield("035", [("a", f"(OCoLC){mms_id}")]))
    if nz_id is not None:
        parts.append(datafield("035", [("a", f"(EXLNZ-01WRLC_NETWORK){nz_id}")]))
    parts.append(datafield("245", [("a", f"Title of {mms_id}")], "1", "0"))
    parts.extend(extra)
    parts.append(datafield("AVA", [("b", "MAIN"), ("j", "stacks")]))
    parts.extend(datafield("ITM", item) for item in items)
    return "<record>" + "".join(parts) + "</record>"


def collection(records: Iterable[str], *, namespace: bool = False) -> bytes:
    """A publishing file: XML declaration and a ``<collection>`` of the records."""
    xmlns = f' xmlns="{MARC_NS}"' if namespace else ""
    body = "\n".join(records)
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    return f"{declaration}\n<collection{xmlns}>\n{body}\n</collection>\n".encode()


def write_publishing_file(path: Path, records: int, items_per_record: int = 2) -> Path:
    """A generated publishing file of ``records`` records, written without holding it in memory;
    odd records carry an NZ id, even ones do not (so both I7 paths are exercised)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<collection>\n')
        for number in range(records):
            items = [
                [("b", f"39{number:010d}{k}"), ("c", "MAIN"), ("l", "rs_shared_1"), ("n", "note")]
                for k in range(items_per_record)
            ]
            nz = f"99{number:010d}3401" if number % 2 else None
            out.write(record(f"99{number:012d}06421", nz_id=nz, items=items))
            out.write("\n")
        out.write("</collection>\n")
    return path
