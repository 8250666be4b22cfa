"""The aspace2alma rules on notes, the title and the finding-aid link (research §a rules 8, 9,
12 and 13)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from domain.aspace.fields import (
    after_last_data_field,
    data_field,
    first_index,
    first_value,
    map_data_fields,
    replace_at,
    with_subfields,
)
from domain.shared.aspace_rules import AspaceRules
from domain.shared.marc import DataField, MarcRecord, Subfield

OMISSION: Final = "..."
"""Rule 9: what ActiveSupport's ``String#truncate`` ends a cut text with."""
LOCATION_TAG: Final = "982"

# Upstream's ``gsub(/.*:\s(.+)[.]/, '\1')``; Ruby's ``\s`` is ASCII whitespace only.
_LOCATION_TEXT: Final = re.compile(r".*:[ \t\n\v\f\r](.+)[.]")
# Ruby's ``String#split`` with no argument: runs of ASCII whitespace, ends ignored.
_RUBY_WORD: Final = re.compile(r"[^ \t\n\v\f\r]+")


def truncate(text: str, limit: int) -> str:
    """ActiveSupport's ``text.truncate(limit)``: unchanged up to ``limit`` characters, otherwise
    the first ``limit - 3`` characters and ``...``, so ``limit`` characters in all (Ruby and
    Python both count code points). ``truncate(7999)`` keeps 7,996 characters."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(OMISSION), 0)] + OMISSION


def mark_bulk_dates(record: MarcRecord) -> MarcRecord:
    """Rule 8: the first 245 $g (the bulk dates) becomes ``(mostly <g>)``; other $g as they are."""
    index = next(
        (
            i
            for i, f in enumerate(record.fields)
            if isinstance(f, DataField) and f.tag == "245" and first_value(f, "g") is not None
        ),
        None,
    )
    if index is None:
        return record
    field = record.fields[index]
    assert isinstance(field, DataField)
    return replace_at(record, index, _replace_first(field, "g", lambda g: f"(mostly {g})"))


def truncate_notes(record: MarcRecord, rules: AspaceRules) -> MarcRecord:
    """Rule 9 (#380, #381): the first $a of every 520 is cut to ``rules.note_limit`` characters
    (Alma's 9,999-byte field against ArchivesSpace notes of 40,000 and more); every 520 is kept,
    for notes in several languages. A 520 without $a has nothing to cut (upstream would raise)."""

    def cut(field: DataField) -> DataField:
        if field.tag != "520":
            return field
        return _replace_first(field, "a", lambda a: truncate(a, rules.note_limit))

    return map_data_fields(record, cut)


def link_finding_aid(record: MarcRecord, rules: AspaceRules) -> MarcRecord:
    """Rule 12 (#264, #265, #268): the first 856 becomes ``856 42 $z <link text> $u <its first
    $u> $y <label>`` where it stands (no $u when it had none, as upstream); any later 856 is left
    as it is, as upstream."""
    index = first_index(record, "856", DataField)
    if index is None:
        return record
    old = record.fields[index]
    assert isinstance(old, DataField)
    url = first_value(old, "u")
    subfields = [Subfield("z", rules.finding_aid_link_text)]
    if url is not None:
        subfields.append(Subfield("u", url))
    subfields.append(Subfield("y", rules.finding_aid_label))
    return replace_at(record, index, DataField("856", "4", "2", tuple(subfields)))


def add_locations(record: MarcRecord, rules: AspaceRules) -> MarcRecord:
    """Rule 13 (#147, #247): for each $a of each 500 that ``rules.location_note`` finds (a
    search, not anchored), the text is stripped to what follows the last ``: `` up to the last
    ``.``, and each whitespace-separated word becomes a ``982 ## $c <word>`` after the last data
    field. ``Location of resource: scarcpph.`` gives ``982 $c scarcpph``. The 500s themselves go
    in rule 15."""
    pattern = re.compile(rules.location_note)
    words: list[str] = []
    for field in record.data_fields:
        if field.tag != "500":
            continue
        for subfield in field.subfields:
            if subfield.code == "a" and pattern.search(subfield.value):
                words.extend(_RUBY_WORD.findall(_LOCATION_TEXT.sub(r"\1", subfield.value)))
    return after_last_data_field(
        record, (data_field(LOCATION_TAG, " ", " ", ("c", word)) for word in words)
    )


def _replace_first(field: DataField, code: str, change: Callable[[str], str]) -> DataField:
    subfields = list(field.subfields)
    for i, subfield in enumerate(subfields):
        if subfield.code == code:
            subfields[i] = Subfield(code, change(subfield.value))
            return with_subfields(field, subfields)
    return field
