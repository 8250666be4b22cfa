"""MARC in and out: ISO 2709 (`iso2709`), MARCXML (`marcxml`), plain id lists and the report CSV
(`id_lists`), each to and from `domain.shared.marc` (rules H1, H5, B3)."""
