"""The aspace2alma record transform (rules AS4, AS5): research §a rules 1–17, in upstream's
order, on one ArchivesSpace resource record.

`transform_record` gives one of three results, never an exception for a bad record:

- `Transformed`: the record to write and the containers that became its 949 items;
- `Excluded`: rule 17 leaves it out (a call number on the exclusion list, or no 856);
- `Rejected`: a field rules 3, 4 and 6 need is missing (AS5; upstream raised and uploaded
  nothing).

Rule 17 is decided on the record as rules 1 and 2 leave it (rule 1 can remove a blank 856), which
is what upstream decides on at the end: no rule in between adds or removes an 856 or changes the
call number. `exclusion` asks the same question up front, so the use case need not fetch the top
containers of a resource that will not be written.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from domain.aspace.cleanup import drop_empty, drop_holdings, drop_removed_tags, join_lines
from domain.aspace.containers import TopContainer
from domain.aspace.fields import first_subfield_value
from domain.aspace.headings import mark_local_headings, split_headings
from domain.aspace.identifiers import (
    CALL_NUMBER_TAG,
    add_control_numbers,
    add_dates,
    add_system_number,
    call_number,
    missing_fields,
    replace_cataloging_source,
)
from domain.aspace.items import add_items, qualifying_containers
from domain.aspace.notes import add_locations, link_finding_aid, mark_bulk_dates, truncate_notes
from domain.shared.aspace_rules import AspaceRules
from domain.shared.marc import MarcRecord

__all__ = [
    "Excluded",
    "Rejected",
    "Transformed",
    "call_number",
    "exclusion",
    "qualifying_containers",
    "transform_record",
]


@dataclass(frozen=True)
class Transformed:
    """The record to write, its call number (099 $a), and the containers that became its 949s,
    in 949 order, each with its barcode stripped."""

    record: MarcRecord
    call_number: str
    items: tuple[TopContainer, ...]


@dataclass(frozen=True)
class Excluded:
    """Rule 17 leaves the record out; ``reason`` is one sentence."""

    call_number: str | None
    reason: str


@dataclass(frozen=True)
class Rejected:
    """AS5: the record cannot be transformed; ``reason`` names the missing field(s)."""

    call_number: str | None
    reason: str


def exclusion(record: MarcRecord, rules: AspaceRules) -> str | None:
    """Rule 17 asked up front: why the record would not be written, or None.

    None too for a record `transform_record` rejects (AS5): it is reported failed, not left out,
    as upstream's crash came before its filter.
    """
    cleaned = join_lines(drop_empty(record))
    if missing_fields(cleaned):
        return None
    return _excluded_because(cleaned, _number(cleaned), rules)


def transform_record(
    record: MarcRecord,
    containers: Sequence[TopContainer],
    known_barcodes: Collection[str],
    rules: AspaceRules,
) -> Transformed | Excluded | Rejected:
    """Rules 1–17 on ``record`` (see the module text); ``containers`` are the resource's top
    containers in ArchivesSpace's order, ``known_barcodes`` those Alma and earlier records of the
    run already have (AS3)."""
    cleaned = join_lines(drop_empty(record))  # rules 1, 2
    missing = missing_fields(cleaned)
    if missing:
        return Rejected(
            call_number(cleaned),
            f"no {' and no '.join(missing)}: rules 3, 4 and 6 need the 008, the 041 and the "
            "099 $a (AS5)",
        )
    number = _number(cleaned)
    reason = _excluded_because(cleaned, number, rules)  # rule 17, decided now (module text)
    if reason is not None:
        return Excluded(number, reason)
    out = add_control_numbers(cleaned, number, rules)  # rule 3
    out = add_system_number(out, number, rules)  # rule 4
    out = replace_cataloging_source(out, rules)  # rule 5
    out = add_dates(out)  # rule 6
    out = mark_local_headings(out, rules)  # rule 7
    out = mark_bulk_dates(out)  # rule 8
    out = truncate_notes(out, rules)  # rule 9
    out = split_headings(out, rules)  # rule 10
    out = drop_holdings(out)  # rule 11
    out = link_finding_aid(out, rules)  # rule 12
    out = add_locations(out, rules)  # rule 13
    items = qualifying_containers(containers, known_barcodes, rules)
    out = add_items(out, items, number, rules)  # rule 14
    out = drop_removed_tags(out, rules)  # rule 15
    # Rule 16 (log the call number, sleep 0.25 s) is the use case's: it records the resource
    # with `Transformed.call_number`, and ArchivesSpace calls are paced by the adapter.
    return Transformed(out, number, items)


def _number(cleaned: MarcRecord) -> str:
    number = first_subfield_value(cleaned, CALL_NUMBER_TAG, "a")
    if number is None:  # pragma: no cover - missing_fields said there is one
        raise ValueError("no 099 $a")
    return number


def _excluded_because(cleaned: MarcRecord, number: str, rules: AspaceRules) -> str | None:
    """Rule 17 (#186, #268, #284, #548, #553): an excluded call number (the pattern keeps
    upstream's unescaped dots), then a record with no 856."""
    if re.search(rules.excluded_call_numbers, number):
        return f"call number {number} is on the exclusion list"
    if not cleaned.has_data_field("856"):
        return "no 856: no finding aid to link"
    return None
