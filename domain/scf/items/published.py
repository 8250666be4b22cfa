"""An item as a member's publishing file describes it (rules I3, I4, I7)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.scf.naming import scf_barcode


@dataclass(frozen=True)
class PublishedItem:
    """One `ITM` field of one published record: what the items sync decides on.

    ``local_bib_marcxml`` is set only when the record has no Network Zone id: it is the record to
    create as a local SCF bib (rule I7: the N4 `035` added, `AVA` and `ITM` removed).
    """

    institution: str
    member_mms_id: str
    nz_mms_id: str | None
    barcode: str | None
    library: str | None
    location: str | None
    internal_note_2: str | None
    deleted: bool
    source_file: str
    record_position: int
    local_bib_marcxml: str | None = None

    @property
    def scf_barcode(self) -> str | None:
        """The barcode of the SCF mirror (rule N1); None when the ITM has no usable barcode."""
        if self.barcode is None or not self.barcode.strip():
            return None
        return scf_barcode(self.barcode)
