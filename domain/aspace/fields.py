"""Field helpers shared by the aspace2alma rules (research §a, rules 1–17).

Upstream edits a Nokogiri tree in place (``node.previous =``, ``node.next =``, ``replace``); these
helpers do the same on the immutable `MarcRecord`, leaving every other field where it stands, so
the rules keep upstream's field order without each one re-deriving positions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from domain.shared.marc import ControlField, DataField, Field, MarcRecord, Subfield

RUBY_WHITESPACE: Final = " \t\n\v\f\r\0"
"""What Ruby's ``String#strip`` removes (ASCII only; Python's ``str.strip()`` would also take
no-break spaces and other Unicode spaces, which upstream keeps)."""


def is_blank(value: str) -> bool:
    """ActiveSupport's ``blank?`` on text (rule 1): empty or only (Unicode) whitespace."""
    return not value.strip()


def data_field(tag: str, ind1: str, ind2: str, *subfields: tuple[str, str]) -> DataField:
    """A data field from ``(code, value)`` pairs."""
    return DataField(tag, ind1, ind2, tuple(Subfield(code, value) for code, value in subfields))


def first_value(field: DataField, code: str) -> str | None:
    """The first ``$code`` of ``field`` (upstream's ``at_xpath('marc:subfield[@code=…]')``)."""
    return next((s.value for s in field.subfields if s.code == code), None)


def first_subfield_value(record: MarcRecord, tag: str, code: str) -> str | None:
    """The first ``$code`` of any ``tag`` field in record order, as upstream's
    ``at_xpath('//datafield[@tag=…]/subfield[@code=…]')``: a ``tag`` field without one is
    passed over for the next."""
    for field in record.data_fields:
        if field.tag == tag:
            value = first_value(field, code)
            if value is not None:
                return value
    return None


def first_index(record: MarcRecord, tag: str, kind: type[Field]) -> int | None:
    """Where the first ``kind`` field ``tag`` stands, or None."""
    return next(
        (i for i, f in enumerate(record.fields) if isinstance(f, kind) and f.tag == tag), None
    )


def insert_at(record: MarcRecord, index: int, *new: Field) -> MarcRecord:
    """``record`` with ``new`` placed before the field now at ``index``."""
    fields = record.fields
    return record.with_fields((*fields[:index], *new, *fields[index:]))


def replace_at(record: MarcRecord, index: int, new: Field) -> MarcRecord:
    """``record`` with the field at ``index`` replaced in place."""
    fields = record.fields
    return record.with_fields((*fields[:index], new, *fields[index + 1 :]))


def after_last_data_field(record: MarcRecord, new: Iterable[DataField]) -> MarcRecord:
    """``record`` with ``new`` right after its last data field, in order (upstream's
    ``doc.xpath('//marc:datafield').last.next =``, repeated)."""
    added = tuple(new)
    if not added:
        return record
    last = max((i for i, f in enumerate(record.fields) if isinstance(f, DataField)), default=-1)
    return insert_at(record, last + 1, *added)


def map_data_fields(
    record: MarcRecord, change: Callable[[DataField], DataField | None]
) -> MarcRecord:
    """``record`` with ``change`` applied to each data field in place; None drops the field.
    Control fields are kept as they are."""
    fields: list[Field] = []
    for field in record.fields:
        if isinstance(field, ControlField):
            fields.append(field)
            continue
        changed = change(field)
        if changed is not None:
            fields.append(changed)
    return record.with_fields(fields)


def with_subfields(field: DataField, subfields: Iterable[Subfield]) -> DataField:
    """``field`` with other subfields (same tag and indicators)."""
    return DataField(field.tag, field.indicator1, field.indicator2, tuple(subfields))
