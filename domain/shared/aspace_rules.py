"""The constants, tag lists, patterns and exclusion list of the aspace2alma record transform
(rule AS4, research §a rules 1–17), with Princeton's values as the defaults (rule B9).

In the shared domain, not in ``domain.aspace``, because the workflows configuration (a shared
adapter, which imports no context) builds and validates them from ``[aspace2alma]``.

Patterns are Python regular expressions. Upstream's ``\\p{L}`` (a letter) is written
``[^\\W\\d_]``, its Python equivalent; the exclusion list keeps its unescaped dots (parity:
``C0744.06`` also matches ``C0744x06``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

HEADING_TAGS: Final = ("600", "610", "630", "648", "650", "651", "655", "656", "657", "700")
"""Rule 10: subjects and added entries whose $a is split on ``--``."""

REMOVED_TAGS: Final = ("351", "500", "524", "535", "540", "541", "544", "561", "583")
"""Rule 15: removed after the 500s gave their locations (rule 13)."""

LOCATION_NOTE: Final = (
    r"Location of resource: (sca)?(anxb|ea|ex|flm|flmp|gax|hsvc|hsvm|mss|mudd|prnc|rarebooks|"
    r"rcpph|rcppf|rcppl|rcpxc|rcpxg|rcpxm|rcpxr|st|thx|wa|review|oo|sc|sls)"
)
"""Rule 13: a 500 $a naming where the collection is (searched, not anchored, as upstream)."""

RECAP_LOCATION: Final = r"^(sca)?rcp[^\W\d_]+"
"""Rule 14: a top container's location code that is ReCAP (upstream ``^(sca)?rcp\\p{L}+``)."""

EXCLUDED_CALL_NUMBERS: Final = (
    r"^(C0140|C1771|AC214|AC364|C0744.06|C0935|C1296|WC059|RBD1|RBD1.1|C0723.1-47|LAE\d+|"
    r"SPA\d+|POR\d+)$"
)
"""Rule 17: call numbers (099 $a) never sent to Alma."""


@dataclass(frozen=True)
class AspaceRules:
    """Everything rules 1–17 take from the configuration (``[aspace2alma]``)."""

    org_code: str = "PULFA"
    """003, and the ``(PULFA)`` prefix of 035 $a and 949 $d (rules 3, 4, 14)."""
    cataloging_agency: str = "NjP"
    """040 $a and $c (rule 5), and the $5 of local headings (rule 7)."""
    cataloging_language: str = "eng"
    """040 $b (rule 5)."""
    description_conventions: str = "dacs"
    """040 $e (rule 5)."""
    note_limit: int = 7999
    """Rule 9: a 520 $a longer than this is cut to it, ``...`` included."""
    heading_tags: tuple[str, ...] = HEADING_TAGS
    removed_tags: tuple[str, ...] = REMOVED_TAGS
    finding_aid_link_text: str = "Search and Request"
    """856 $z (rule 12)."""
    finding_aid_label: str = "Princeton University Library Finding Aids"
    """856 $y (rule 12)."""
    location_note: str = LOCATION_NOTE
    recap_location: str = RECAP_LOCATION
    excluded_call_numbers: str = EXCLUDED_CALL_NUMBERS


PRINCETON_RULES: Final = AspaceRules()
"""Princeton's values, as pulibrary/lib_jobs has them (research §a)."""
