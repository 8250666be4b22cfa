"""Rule 14 of the aspace2alma transform (research §a, #397) with AS3's fixes: which top
containers become Alma items, and their 949 fields."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Final

from domain.aspace.containers import TopContainer
from domain.aspace.fields import after_last_data_field, data_field
from domain.shared.aspace_rules import AspaceRules
from domain.shared.marc import DataField, MarcRecord

ITEM_TAG: Final = "949"
_FIRST_NUMBER: Final = re.compile(r"[0-9]+")


def indicator_order(container: TopContainer) -> int:
    """The first integer in the indicator (``"Box 12a"`` -> 12), 0 when there is none, as Ruby's
    ``indicator.scan(/\\d+/).first.to_i`` (ASCII digits; ``nil.to_i`` is 0)."""
    found = _FIRST_NUMBER.search(container.indicator)
    return int(found.group()) if found else 0


def qualifying_containers(
    containers: Iterable[TopContainer], known_barcodes: Collection[str], rules: AspaceRules
) -> tuple[TopContainer, ...]:
    """The containers that become items, in 949 order: sorted by `indicator_order` (stable, so
    ArchivesSpace's order among equals), kept when all hold:

    - the location code matches ``rules.recap_location`` (ReCAP; searched, the pattern anchors);
    - the barcode, stripped, is not empty (fix: upstream let ``""`` through);
    - it is not in ``known_barcodes`` (Alma's set and earlier records of the run, AS3);
    - no earlier container of this record has it (fix: upstream wrote it twice).

    Each is returned with its barcode stripped, the value its 949 $a carries and AS3 adds to the
    known barcodes.
    """
    recap = re.compile(rules.recap_location)
    used: set[str] = set()
    kept: list[TopContainer] = []
    for container in sorted(containers, key=indicator_order):
        barcode = container.barcode.strip()
        if not barcode or not recap.search(container.location_code):
            continue
        if barcode in used or barcode in known_barcodes or container.barcode in known_barcodes:
            continue
        used.add(barcode)
        kept.append(
            container if barcode == container.barcode else replace(container, barcode=barcode)
        )
    return tuple(kept)


def item_field(container: TopContainer, number: str, rules: AspaceRules) -> DataField:
    """``949 ## $a <barcode> $b <type> <indicator> $c <location code> $d (<org>)<call number>``,
    upstream's item (the import profile makes an Alma item of it)."""
    return data_field(
        ITEM_TAG,
        " ",
        " ",
        ("a", container.barcode),
        ("b", f"{container.type} {container.indicator}"),
        ("c", container.location_code),
        ("d", f"({rules.org_code}){number}"),
    )


def add_items(
    record: MarcRecord, items: Iterable[TopContainer], number: str, rules: AspaceRules
) -> MarcRecord:
    """Rule 14: one 949 per item, in order, after the last data field (so after rule 13's 982s)."""
    return after_last_data_field(record, (item_field(item, number, rules) for item in items))
