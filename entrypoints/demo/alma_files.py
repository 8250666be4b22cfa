"""Files shaped like Alma's: a publishing archive of MARCXML records and a request export.

Alma's publishing profile writes a `.tar.gz` holding one `<collection>` of records (no
namespace; `001` the MMS id, an `035` with the Network Zone id, one `ITM` field per item with
`$b` barcode, `$c` library, `$l` location). The remote-storage integration profile writes an
`xb:rsExportList` with one `xb:rsExport` per request. Built in code, so the demo ships no data.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape

RS_NAMESPACE = "http://com/exlibris/urm/rep/externalsysremotestorage/xmlbeans"


@dataclass(frozen=True)
class PublishedItem:
    """One ITM field: the item's barcode and where it currently is."""

    barcode: str
    library: str
    location: str


@dataclass(frozen=True)
class PublishedRecord:
    """One published bibliographic record and its items."""

    mms_id: str
    title: str
    items: tuple[PublishedItem, ...]
    nz_mms_id: str | None = None


def marc_record(record: PublishedRecord) -> str:
    """A `<record>` as Alma publishes it: leader, 005/008 before 001, 035, 245, AVA, ITMs."""
    fields = [
        "<leader>00000cam a2200000 i 4500</leader>",
        '<controlfield tag="005">20250131101010.0</controlfield>',
        '<controlfield tag="008">250131s2025    xx            000 0 eng d</controlfield>',
        f'<controlfield tag="001">{escape(record.mms_id)}</controlfield>',
    ]
    if record.nz_mms_id:
        fields.append(
            '<datafield tag="035" ind1=" " ind2=" ">'
            f'<subfield code="a">(EXLNZ-01AAA_NETWORK){escape(record.nz_mms_id)}</subfield>'
            "</datafield>"
        )
    fields.append(
        '<datafield tag="245" ind1="1" ind2="0">'
        f'<subfield code="a">{escape(record.title)}</subfield></datafield>'
    )
    fields.append(
        '<datafield tag="AVA" ind1=" " ind2=" "><subfield code="b">X</subfield></datafield>'
    )
    for item in record.items:
        subfields = (("b", item.barcode), ("c", item.library), ("l", item.location))
        inner = "".join(
            f'<subfield code="{code}">{escape(value)}</subfield>' for code, value in subfields
        )
        fields.append(f'<datafield tag="ITM" ind1=" " ind2=" ">{inner}</datafield>')
    return "<record>" + "".join(fields) + "</record>"


def publishing_archive(name: str, records: Iterable[PublishedRecord]) -> bytes:
    """A gzipped tar holding `{name}.xml`, one `<collection>` of the records."""
    body = "\n".join(marc_record(record) for record in records)
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<collection>\n{body}\n</collection>\n'
    data = xml.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo(f"{name}.xml")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def request_export(requests: Iterable[Mapping[str, str]]) -> bytes:
    """An `xb:rsExportList`; keys are element names (`requestId`, `barcode`, …) and `pickup`
    (a library name), `patronName`, `patronIdentifier` go where Alma puts them."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<xb:rsExportList xmlns:xb="{RS_NAMESPACE}">',
    ]
    for request in requests:
        inner: list[str] = []
        patron: list[str] = []
        for key, value in request.items():
            if key == "pickup":
                inner.append(f"<xb:pickup><xb:library>{escape(value)}</xb:library></xb:pickup>")
            elif key.startswith("patron"):
                patron.append(f"<xb:{key}>{escape(value)}</xb:{key}>")
            else:
                inner.append(f"<xb:{key}>{escape(value)}</xb:{key}>")
        if patron:
            inner.append("<xb:patronInfo>" + "".join(patron) + "</xb:patronInfo>")
        parts.append("  <xb:rsExport>" + "".join(inner) + "</xb:rsExport>")
    parts.append("</xb:rsExportList>\n")
    return "\n".join(parts).encode()
