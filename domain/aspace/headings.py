"""The aspace2alma rules on headings (research §a rules 7 and 10)."""

from __future__ import annotations

import re
from typing import Final

from domain.aspace.fields import RUBY_WHITESPACE, first_value, map_data_fields, with_subfields
from domain.shared.aspace_rules import AspaceRules
from domain.shared.marc import DataField, MarcRecord, Subfield

SEPARATOR: Final = "--"
"""Rule 10: what ArchivesSpace puts between the parts of a subject heading in $a."""
_CHRONOLOGICAL: Final = re.compile(r"[0-9]{2}")
"""Rule 10: a part starting with two digits (``20th century``) is a $y, any other an $x."""


def mark_local_headings(record: MarcRecord, rules: AspaceRules) -> MarcRecord:
    """Rule 7 (#991, #996): every data field (not only headings: the golden 100 gets one) whose
    first $2 is ``local`` and whose second indicator is ``7`` gets ``$5 <agency>`` at its end."""

    def mark(field: DataField) -> DataField:
        if field.indicator2 != "7" or first_value(field, "2") != "local":
            return field
        return with_subfields(field, (*field.subfields, Subfield("5", rules.cataloging_agency)))

    return map_data_fields(record, mark)


def split_headings(record: MarcRecord, rules: AspaceRules) -> MarcRecord:
    """Rule 10 (#143, #334) on every field of ``rules.heading_tags``, as upstream:

    - the first $a is split on ``--`` and each part stripped; $a keeps the first part, and each
      later part is appended at the end of the field (after any $5 of rule 7) as $y when it
      starts with two digits, else $x;
    - the first $0, when it contains ``viaf``, becomes a $1 where it stands;
    - the first $2, when it is ``viaf``, goes, and a second indicator ``7`` becomes ``0``.

    A heading without $a has nothing to split (upstream would raise); the rest still applies.
    """
    tags = frozenset(rules.heading_tags)
    return map_data_fields(record, lambda f: _heading(f) if f.tag in tags else f)


def _heading(field: DataField) -> DataField:
    subfields = list(field.subfields)
    indicator2 = field.indicator2
    added: list[Subfield] = []
    a = _first(subfields, "a")
    if a is not None:
        parts = _split(subfields[a].value)
        subfields[a] = Subfield("a", parts[0] if parts else "")
        added = [Subfield("y" if _CHRONOLOGICAL.match(p) else "x", p) for p in parts[1:]]
    zero = _first(subfields, "0")
    if zero is not None and "viaf" in subfields[zero].value:
        subfields[zero] = Subfield("1", subfields[zero].value)
    two = _first(subfields, "2")
    if two is not None and subfields[two].value == "viaf":
        del subfields[two]
        if indicator2 == "7":
            indicator2 = "0"
    return DataField(field.tag, field.indicator1, indicator2, (*subfields, *added))


def _split(text: str) -> list[str]:
    # Ruby's ``split('--')`` drops trailing empty parts (``"A --"`` gives one part), then
    # ``strip!`` trims ASCII whitespace only.
    parts = text.split(SEPARATOR)
    while parts and parts[-1] == "":
        parts.pop()
    return [p.strip(RUBY_WHITESPACE) for p in parts]


def _first(subfields: list[Subfield], code: str) -> int | None:
    return next((i for i, s in enumerate(subfields) if s.code == code), None)
