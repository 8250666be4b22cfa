"""The aspace2alma rules that only remove or clean (research §a rules 1, 2, 11 and 15)."""

from __future__ import annotations

import re
from typing import Final

from domain.aspace.fields import is_blank, map_data_fields, with_subfields
from domain.shared.aspace_rules import AspaceRules
from domain.shared.marc import ControlField, DataField, Field, MarcRecord, Subfield

HOLDINGS_TAG: Final = "852"
"""Rule 11: ArchivesSpace's holdings statement; Alma builds its own holdings (#132)."""

_LINE_BREAKS: Final = re.compile(r"[\n\r]+")


def drop_empty(record: MarcRecord) -> MarcRecord:
    """Rule 1 (#128): every subfield whose text is blank goes, then every data field left with no
    subfield (``<datafield tag="049"/>`` included), and every blank control field.

    Upstream's ``remove_empty_elements`` meant to keep nodes carrying indicators or a code, but
    it looks the attributes up as ``'@ind1'``, ``'@code'``…, which Nokogiri never finds: in
    effect any node whose text is blank is removed. The golden file confirms it (its 049 is gone).
    """
    fields: list[Field] = []
    for field in record.fields:
        if isinstance(field, ControlField):
            if not is_blank(field.value):
                fields.append(field)
            continue
        kept = tuple(s for s in field.subfields if not is_blank(s.value))
        if not kept:
            continue
        fields.append(field if len(kept) == len(field.subfields) else with_subfields(field, kept))
    return record.with_fields(fields)


def join_lines(record: MarcRecord) -> MarcRecord:
    """Rule 2 (#159): in every subfield each run of line breaks becomes one space (control fields
    are left alone, as upstream)."""

    def join(field: DataField) -> DataField:
        if not any(_LINE_BREAKS.search(s.value) for s in field.subfields):
            return field
        return with_subfields(
            field, (Subfield(s.code, _LINE_BREAKS.sub(" ", s.value)) for s in field.subfields)
        )

    return map_data_fields(record, join)


def drop_holdings(record: MarcRecord) -> MarcRecord:
    """Rule 11: every 852 goes."""
    return map_data_fields(record, lambda f: None if f.tag == HOLDINGS_TAG else f)


def drop_removed_tags(record: MarcRecord, rules: AspaceRules) -> MarcRecord:
    """Rule 15 (#205): every field of ``rules.removed_tags`` goes, after rule 13 read the 500s.

    Upstream takes only the first 351 (``at_xpath``) and every field of the other tags; the
    configuration is one tag list, so every 351 goes (a second arrangement note is no more wanted
    in Alma than the first).
    """
    removed = frozenset(rules.removed_tags)
    return map_data_fields(record, lambda f: None if f.tag in removed else f)
