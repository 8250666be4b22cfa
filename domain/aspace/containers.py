"""A top container of an ArchivesSpace resource, as rule 14 (items) and AS3 read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopContainer:
    """One top container (a ``response.docs[].json`` of the top-container search).

    Values are text, empty when ArchivesSpace has none: ``barcode``, ``type`` (``box``,
    ``volume``), ``indicator`` (``2477``), ``location_code`` (the first container location's
    ``_resolved.classification``, e.g. ``scarcpph``).
    """

    uri: str
    barcode: str = ""
    type: str = ""
    indicator: str = ""
    location_code: str = ""
