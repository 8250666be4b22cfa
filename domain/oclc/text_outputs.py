"""Rule O7: the two text outputs of the ``update by job`` rows (O6), as a heading and its values.

- ``a_to_z_MMSid_for_set.txt``: ``MMS Id`` and one Network Id a line, for the itemized NZ set the
  job "Move OCLC 035 $a to $z" runs on (O8 or by hand);
- ``oclc_numbers_updated.txt``: ``Incoming 035a`` and the incoming OCLC numbers (fix: upstream
  writes the Network Ids under that heading).

Both keep the DIFF order of the rows; the values are text, exactly as the report wrote them.
Turning a column into bytes is the adapter's (`adapters.oclc.csv_outputs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from domain.oclc.classification import Classification, Sheet

__all__ = [
    "SET_IDS_FILE",
    "UPDATED_NUMBERS_FILE",
    "OneColumn",
    "set_ids",
    "updated_numbers",
]

SET_IDS_FILE: Final = "a_to_z_MMSid_for_set.txt"
UPDATED_NUMBERS_FILE: Final = "oclc_numbers_updated.txt"


@dataclass(frozen=True)
class OneColumn:
    """Rule O7: a one-column text file: its heading, then one value a line."""

    heading: str
    values: tuple[str, ...]


def set_ids(classification: Classification) -> OneColumn:
    """Rule O7: ``MMS Id`` and the Network Id of every ``update by job`` row."""
    rows = classification.rows(Sheet.UPDATE_BY_JOB)
    return OneColumn("MMS Id", tuple(row.network_id for row in rows))


def updated_numbers(classification: Classification) -> OneColumn:
    """Rule O7: ``Incoming 035a`` and the incoming number of every ``update by job`` row (O6
    never puts a row without one there)."""
    rows = classification.rows(Sheet.UPDATE_BY_JOB)
    return OneColumn(
        "Incoming 035a", tuple(row.incoming_035a for row in rows if row.incoming_035a is not None)
    )
