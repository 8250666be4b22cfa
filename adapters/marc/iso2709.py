"""ISO 2709 (binary MARC 21) in and out (rules H1, H5, B3).

Reading frames the records itself, by the length each leader declares, so every record and every
break is named by its number (from 1) and the byte offset it starts at; pymarc decodes each framed
record, as UTF-8 when leader/09 is ``a`` and as MARC-8 otherwise. A framing break (a length that is
no number, a file that ends inside a record, an end-of-record mark missing where the length says)
ends the reading: the records before it are kept and one last entry names the break, since nothing
after it can be trusted. A framed record pymarc cannot decode is one entry with its problem, and
reading goes on with the next.

Writing is a small encoder of its own rather than pymarc's ``as_marc``: pymarc decides a field's
kind from its tag, so a data field tagged ``00X`` would come out as the text ``None`` and a control
field with another tag would lose its value. Here the model's kind decides, and what ISO 2709
cannot carry (a record over 99,999 bytes, a field over 9,999, a delimiter byte in a value) is
refused by name instead of yielding a file no reader can frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pymarc

from domain.shared.errors import DomainError
from domain.shared.marc import ControlField, DataField, MarcRecord, SourceRecord, Subfield

SUBFIELD_DELIMITER = b"\x1f"
FIELD_TERMINATOR = b"\x1e"
RECORD_TERMINATOR = b"\x1d"
_DELIMITERS = frozenset("\x1d\x1e\x1f")
_LEADER_LENGTH = 24
_MAX_RECORD = 99_999
_MAX_FIELD = 9_999
_WHITESPACE = b" \t\r\n"


class Iso2709Error(ValueError):
    """A record cannot be written as ISO 2709; the message names the record and the field."""


@dataclass(frozen=True)
class Iso2709Entry:
    """One record read from an ISO 2709 file: the record, or the problem naming it.

    ``position`` counts from 1 and ``offset`` is the byte the record starts at. The entry that
    reports a framing break is always the last one.
    """

    position: int
    offset: int
    record: MarcRecord | None
    problem: str | None = None


def read_iso2709(data: bytes) -> Iterator[Iso2709Entry]:
    """Every record of ``data`` in file order (see the module for breaks); none for empty input."""
    offset = 0
    position = 0
    end = len(data.rstrip(_WHITESPACE))
    while offset < end:
        # Some exports put a line end between records; it is no part of either.
        while data[offset] in _WHITESPACE:
            offset += 1
        position += 1
        where = f"record {position} at byte offset {offset}"
        head = data[offset : offset + 5]
        if len(head) < 5 or not head.isdigit():
            yield _broken(position, offset, f"{where} has no record length (starts {head!r})")
            return
        length = int(head)
        if length <= _LEADER_LENGTH:
            yield _broken(position, offset, f"{where} declares an impossible length of {length}")
            return
        if offset + length > len(data):
            remain = len(data) - offset
            yield _broken(
                position,
                offset,
                f"{where} is cut short: its leader declares {length} bytes, the file holds "
                f"{remain} more",
            )
            return
        chunk = data[offset : offset + length]
        if not chunk.endswith(RECORD_TERMINATOR):
            yield _broken(
                position,
                offset,
                f"{where} has no end-of-record mark at byte {offset + length - 1}, where its "
                f"leader's length of {length} puts it",
            )
            return
        yield _decoded(position, offset, chunk, where)
        offset += length


def mms_ids_from_iso2709(data: bytes) -> Iterator[SourceRecord]:
    """Rule H1: the stripped ``001`` of each record; a record without one, or one that cannot be
    read, is an entry with its problem, and a framing break is the last entry."""
    for entry in read_iso2709(data):
        if entry.record is None:
            yield SourceRecord(entry.position, None, entry.problem)
            continue
        mms_id = (entry.record.control("001") or "").strip()
        if mms_id:
            yield SourceRecord(entry.position, mms_id)
        else:
            where = f"record {entry.position} at byte offset {entry.offset}"
            yield SourceRecord(entry.position, None, f"{where} has no 001")


def from_pymarc(record: pymarc.Record) -> MarcRecord:
    """The model of a record pymarc decoded (with ``to_unicode``, so values are text)."""
    fields: list[ControlField | DataField] = []
    for field in record.fields:
        if field.control_field:
            fields.append(ControlField(field.tag, _text(field.data)))
        else:
            subfields = tuple(Subfield(s.code, _text(s.value)) for s in field.subfields)
            fields.append(DataField(field.tag, field.indicator1, field.indicator2, subfields))
    return MarcRecord(str(record.leader), tuple(fields))


def to_pymarc(record: MarcRecord) -> pymarc.Record:
    """A pymarc record of the model (pymarc later treats fields by their tag, not their kind)."""
    fields: list[pymarc.Field] = []
    for field in record.fields:
        if isinstance(field, ControlField):
            fields.append(pymarc.Field(tag=field.tag, data=field.value))
        else:
            fields.append(
                pymarc.Field(
                    tag=field.tag,
                    indicators=pymarc.Indicators(field.indicator1, field.indicator2),
                    subfields=[pymarc.Subfield(s.code, s.value) for s in field.subfields],
                )
            )
    converted = pymarc.Record(to_unicode=True, force_utf8=True, fields=fields)
    converted.leader = pymarc.Leader(record.leader)
    return converted


def iso2709_problem(record: MarcRecord) -> str | None:
    """Why ``record`` cannot be written as ISO 2709, naming the field; None when it can.

    A use case can ask before writing, to record that one record failed (B2)."""
    try:
        _encode(record)
    except Iso2709Error as exc:
        return str(exc)
    return None


def iso2709_bytes(records: Iterable[MarcRecord]) -> bytes:
    """Rule H5: MARC 21 in UTF-8, leader/09 ``a``, the records in the order given; the same records
    always give the same bytes (B3). `Iso2709Error` names a record ISO 2709 cannot carry."""
    return b"".join(_encode(record) for record in records)


def _encode(record: MarcRecord) -> bytes:
    name = _name(record)
    leader = record.leader
    if not leader.isascii():
        raise Iso2709Error(f"{name}: the leader {leader!r} is not ASCII")
    directory = bytearray()
    body = bytearray()
    for field in record.fields:
        if not field.tag.isascii():
            raise Iso2709Error(f"{name}: tag {field.tag!r} is not ASCII")
        data = _field_bytes(field, name)
        if len(data) > _MAX_FIELD:
            raise Iso2709Error(f"{name}: field {field.tag} is {len(data)} bytes, over {_MAX_FIELD}")
        directory += f"{field.tag}{len(data):04d}{len(body):05d}".encode("ascii")
        body += data
    directory += FIELD_TERMINATOR
    base = _LEADER_LENGTH + len(directory)
    length = base + len(body) + len(RECORD_TERMINATOR)
    if length > _MAX_RECORD:
        raise Iso2709Error(f"{name} is {length} bytes, over ISO 2709's {_MAX_RECORD}")
    # Leader/09 `a`: the text is written as UTF-8 whatever the record was read from (H5).
    head = f"{length:05d}{leader[5:9]}a22{base:05d}{leader[17:20]}4500"
    return head.encode("ascii") + bytes(directory) + bytes(body) + RECORD_TERMINATOR


def _field_bytes(field: ControlField | DataField, name: str) -> bytes:
    if isinstance(field, ControlField):
        _check_value(field.value, f"{name}: field {field.tag}")
        return field.value.encode("utf-8") + FIELD_TERMINATOR
    indicators = field.indicator1 + field.indicator2
    # Readers take indicators and subfield codes as one byte each.
    if not indicators.isascii() or _DELIMITERS.intersection(indicators):
        raise Iso2709Error(f"{name}: field {field.tag} has indicators {indicators!r}")
    parts = [indicators.encode("ascii")]
    for subfield in field.subfields:
        where = f"{name}: field {field.tag} ${subfield.code}"
        if not subfield.code.isascii():
            raise Iso2709Error(f"{where}: the subfield code is not ASCII")
        _check_value(subfield.code + subfield.value, where)
        parts.append(SUBFIELD_DELIMITER + (subfield.code + subfield.value).encode("utf-8"))
    return b"".join(parts) + FIELD_TERMINATOR


def _check_value(value: str, where: str) -> None:
    if _DELIMITERS.intersection(value):
        raise Iso2709Error(f"{where} holds an ISO 2709 delimiter byte")


def _name(record: MarcRecord) -> str:
    control_number = record.control("001")
    return "a record without 001" if control_number is None else f"record {control_number}"


def _decoded(position: int, offset: int, chunk: bytes, where: str) -> Iso2709Entry:
    try:
        # hide_utf8_warnings: pymarc's MARC-8 decoder would otherwise write to stderr.
        decoded = pymarc.Record(chunk, to_unicode=True, hide_utf8_warnings=True)
        return Iso2709Entry(position, offset, from_pymarc(decoded))
    except UnicodeDecodeError as exc:
        problem = f"{where} is not valid {_coding(chunk)} ({exc.reason} at byte {exc.start})"
    except (pymarc.PymarcException, ValueError, IndexError, DomainError) as exc:
        problem = f"{where} cannot be decoded ({type(exc).__name__}: {exc})"
    return Iso2709Entry(position, offset, None, problem)


def _coding(chunk: bytes) -> str:
    return "UTF-8" if chunk[9:10] == b"a" else "MARC-8"


def _broken(position: int, offset: int, problem: str) -> Iso2709Entry:
    return Iso2709Entry(position, offset, None, problem)


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    # Only reachable if pymarc were asked for raw bytes, which this module never does.
    raise Iso2709Error(f"pymarc gave {type(value).__name__}, not text")
