"""How the SCF names what it mirrors: barcodes, provenance, system users and bib ids (N1–N5).

These conventions are shared with SCF staff and with records the Java app already created, so
they are parity: an SCF item is the member barcode plus ``X``, its provenance is the owning
institution, the patron it is loaned to is ``{INST}-{LIBRARY}``, and a local SCF bib carries
``({INST}){mms}`` in an 035 so it can be found again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from domain.shared.alma_json import text_at
from domain.shared.errors import InvalidIdentifier

SCF_BARCODE_SUFFIX = "X"
"""Appended to a member barcode to make the SCF barcode (rule N1; the Java app switched from a
prefix to this suffix in 2019)."""

NZ_MARKER = "EXLNZ"
_NZ_PREFIX = re.compile(r"^\(EXLNZ[^)]*\)")


def scf_barcode(member_barcode: str) -> str:
    """The SCF barcode of a member item (rule N1)."""
    if not member_barcode.strip():
        raise InvalidIdentifier("a blank member barcode has no SCF barcode", barcode=member_barcode)
    return member_barcode + SCF_BARCODE_SUFFIX


def member_barcode_of(scf_barcode: str) -> str | None:
    """The member barcode behind an SCF barcode, or None when the SCF item is not ours (N1).

    Exactly one trailing ``X`` is removed, so a member barcode that itself ends in ``X`` survives.
    """
    if not scf_barcode.endswith(SCF_BARCODE_SUFFIX):
        return None
    member = scf_barcode[: -len(SCF_BARCODE_SUFFIX)]
    return member if member.strip() else None


def provenance_value(institution: str) -> dict[str, str]:
    """The ``item_data.provenance`` code-table value that marks an SCF item's owner (rule N2)."""
    return {"value": institution}


def provenance_of(scf_item: Mapping[str, Any]) -> str | None:
    """The owning institution recorded on an SCF item, or None when it carries none (rule N2)."""
    value = text_at(scf_item, "item_data", "provenance", "value")
    return value.strip() if value is not None else None


def system_user_id(institution: str, library: str) -> str:
    """The SCF patron that stands for a member library, e.g. ``01AAA_AB-ABRS`` (rule N3).

    Staff create these users by hand, so a blank part can only be a caller's mistake: the Java app
    sent ``{INST}-null`` and Alma refused it.
    """
    if not institution.strip() or not library.strip():
        raise InvalidIdentifier(
            f"system user needs an institution and a library, got {institution!r}-{library!r}",
            institution=institution or None,
        )
    return f"{institution}-{library}"


def other_system_id(institution: str, mms_id: str) -> str:
    """The 035 value and ``other_system_id`` search key of a local SCF bib (rule N4)."""
    return f"({institution}){mms_id}"


def nz_mms_id(values: Iterable[object]) -> str | None:
    """The Network Zone MMS id among 035 $a (or ``network_number``) values (rule N5).

    The first value mentioning ``EXLNZ`` decides; its ``(EXLNZ-…)`` prefix is removed. The Java
    regex was greedy (``^\\(EXLNZ(.*)\\)``) and would eat a later ``)``; stopping at the first
    ``)`` is the rule as written.
    """
    for value in values:
        if isinstance(value, str) and NZ_MARKER in value:
            nz_id = _NZ_PREFIX.sub("", value.strip()).strip()
            return nz_id or None
    return None
