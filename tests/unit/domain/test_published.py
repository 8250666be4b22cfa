"""A published ITM field and the SCF barcode of its mirror (rules I3, N1)."""

from __future__ import annotations

import pytest

from domain.scf.items.published import PublishedItem


def _item(barcode: str | None) -> PublishedItem:
    return PublishedItem(
        institution="01AAA_AB",
        member_mms_id="991234",
        nz_mms_id=None,
        barcode=barcode,
        library="ABRS",
        location="rs_shared_in_ab",
        internal_note_2=None,
        deleted=False,
        source_file="AB_new_1.xml",
        record_position=1,
    )


def test_N1_the_mirror_of_a_published_item_carries_its_barcode_plus_x() -> None:
    assert _item("32101000").scf_barcode == "32101000X"


@pytest.mark.parametrize("barcode", [None, "", "   "])
def test_I3_an_itm_without_a_barcode_has_no_mirror_barcode(barcode: str | None) -> None:
    assert _item(barcode).scf_barcode is None
