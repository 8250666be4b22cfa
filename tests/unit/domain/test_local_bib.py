"""Rule I7 for W7: the local SCF bib of a member bib read from its Alma (``anies``)."""

from __future__ import annotations

import pytest

from domain.scf.items.local_bib import UnusableBib, local_bib_from_anies
from domain.shared.errors import DomainError

from .samples import AB

MMS_ID = "991234560000121"
MARC = "http://www.loc.gov/MARC21/slim"

_FIELDS = (
    "<leader>01234cam a2200289 i 4500</leader>",
    f'<controlfield tag="001">{MMS_ID}</controlfield>',
    '<datafield tag="245" ind1="1" ind2="0">'
    '<subfield code="a">Local annals :</subfield><subfield code="b">Q &amp; A</subfield>'
    "</datafield>",
    '<datafield tag="AVA" ind1=" " ind2=" "><subfield code="b">ABRS</subfield></datafield>',
    '<datafield tag="ITM" ind1=" " ind2=" ">'
    '<subfield code="b">31234000123456</subfield></datafield>',
    '<datafield tag="500" ind1=" " ind2=" "><subfield code="a">Note</subfield></datafield>',
)
ANIES = f'<?xml version="1.0" encoding="UTF-16"?><record>{"".join(_FIELDS)}</record>'
"""What Alma's ``GET /bibs/{mms_id}`` answers in ``anies``: a declared, unnamespaced record."""

EXPECTED = (
    "<record>"
    "<leader>01234cam a2200289 i 4500</leader>"
    f'<controlfield tag="001">{MMS_ID}</controlfield>'
    '<datafield tag="245" ind1="1" ind2="0">'
    '<subfield code="a">Local annals :</subfield><subfield code="b">Q &amp; A</subfield>'
    "</datafield>"
    '<datafield tag="500" ind1=" " ind2=" "><subfield code="a">Note</subfield></datafield>'
    f'<datafield tag="035" ind1=" " ind2=" "><subfield code="a">({AB}){MMS_ID}</subfield>'
    "</datafield></record>"
)
"""I7: the record as it was, `AVA` and `ITM` removed and the N4 035 appended last."""


def test_I7_the_local_bib_drops_ava_and_itm_and_appends_the_n4_035() -> None:
    # rule I7 (fix: the Java app keeps ITM) and N4: `035 $a ({INST}){mms}` finds the bib again.
    assert local_bib_from_anies(ANIES, AB, MMS_ID) == EXPECTED


def test_I7_only_datafields_tagged_ava_or_itm_are_dropped() -> None:
    # rule I7: the drop is by datafield tag; a controlfield or a subfield named so is kept.
    anies = (
        '<record><controlfield tag="ITM">kept</controlfield>'
        '<datafield tag="590" ind1=" " ind2=" "><subfield code="AVA">kept</subfield></datafield>'
        "</record>"
    )
    assert local_bib_from_anies(anies, AB, MMS_ID) == (
        '<record><controlfield tag="ITM">kept</controlfield>'
        '<datafield tag="590" ind1=" " ind2=" "><subfield code="AVA">kept</subfield></datafield>'
        f'<datafield tag="035" ind1=" " ind2=" "><subfield code="a">({AB}){MMS_ID}</subfield>'
        "</datafield></record>"
    )


def test_I7_a_record_inside_a_namespaced_collection_gives_the_same_local_bib() -> None:
    # rule I7: the local bib is a MARCXML record without namespace, whatever wraps the member's.
    fields = "\n  ".join(_FIELDS)
    anies = f'<collection xmlns="{MARC}">\n<record>\n  {fields}\n</record>\n</collection>'
    assert local_bib_from_anies(anies, AB, MMS_ID) == EXPECTED


def test_I7_a_prefixed_marc_record_loses_its_namespace() -> None:
    # rule I7: `marc:record` is the record; the local bib carries no namespace.
    anies = (
        f'<marc:record xmlns:marc="{MARC}">'
        f'<marc:controlfield tag="001">{MMS_ID}</marc:controlfield></marc:record>'
    )
    assert local_bib_from_anies(anies, AB, MMS_ID) == (
        f'<record><controlfield tag="001">{MMS_ID}</controlfield>'
        f'<datafield tag="035" ind1=" " ind2=" "><subfield code="a">({AB}){MMS_ID}</subfield>'
        "</datafield></record>"
    )


@pytest.mark.parametrize(
    "anies",
    [
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><record>&lol;</record>',
        '<!DOCTYPE record SYSTEM "file:///etc/passwd"><record/>',
        '<record><!ENTITY x "y"></record>',
    ],
    ids=["entity-in-doctype", "external-doctype", "stray-entity"],
)
def test_I7_a_bib_declaring_a_doctype_or_entity_is_refused_unread(anies: str) -> None:
    # rule I7: Alma's MARCXML never declares one; expanding it could read files or blow up memory.
    with pytest.raises(
        UnusableBib, match=rf"^the MARCXML of bib {MMS_ID} declares a DOCTYPE or ENTITY$"
    ):
        local_bib_from_anies(anies, AB, MMS_ID)


@pytest.mark.parametrize("anies", ["", "<record><leader>", "not xml", "<a></b>"])
def test_I7_a_bib_whose_marcxml_cannot_be_read_is_unusable_naming_the_bib(anies: str) -> None:
    # rule I7: no local bib is guessed from a record that does not parse.
    with pytest.raises(UnusableBib, match=rf"^the MARCXML of bib {MMS_ID} cannot be read: "):
        local_bib_from_anies(anies, AB, MMS_ID)


@pytest.mark.parametrize(
    "anies",
    [
        f'<collection xmlns="{MARC}"/>',
        f"<bib><mms_id>{MMS_ID}</mms_id><title>Local annals</title></bib>",
    ],
    ids=["empty-collection", "not-marc"],
)
def test_I7_a_bib_without_a_marc_record_is_unusable_naming_the_bib(anies: str) -> None:
    # rule I7: well-formed XML with no `record` in it holds nothing to create a bib from.
    with pytest.raises(UnusableBib, match=rf"^bib {MMS_ID} has no MARC record$"):
        local_bib_from_anies(anies, AB, MMS_ID)


def test_I7_an_unusable_bib_is_a_domain_error() -> None:
    # rule I7: the caller records it as one failed item, like every rule's bad input.
    with pytest.raises(DomainError):
        local_bib_from_anies("<bib/>", AB, MMS_ID)
