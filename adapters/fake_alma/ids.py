"""Identifiers in Alma's style, deterministic per seed.

Alma ids end with the institution's numeric code: MMS ids start with ``99``, holdings with
``22``, items with ``23`` (``99117110763506421``, ``22195173890006421``, ``23195173880006421``).
Requests, loans and users' linking ids are plain serials with the same ending. A counter per
kind, started at a point drawn from the seed, makes two runs of one seed give the same ids.
"""

from __future__ import annotations

import random


class IdFactory:
    """Hands out the ids of one institution (or of the network zone)."""

    def __init__(self, inst_number: str, seed: int) -> None:
        if not inst_number.isdigit() or len(inst_number) != 4:
            raise ValueError("an institution number is four digits, e.g. '4101'")
        self._suffix = f"0{inst_number}"
        rng = random.Random(f"{seed}:{inst_number}")  # noqa: S311 - ids, not secrets
        self._next: dict[str, int] = {}
        for kind in ("99", "22", "23", "req", "loan", "link", "course", "lib"):
            self._next[kind] = rng.randrange(10**9, 2 * 10**9) * 10

    def _take(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 10
        return value

    def mms_id(self) -> str:
        """A new bibliographic MMS id (``99…0NNNN``)."""
        return f"99{self._take('99')}{self._suffix}"

    def holding_id(self) -> str:
        """A new holding id (``22…``)."""
        return f"22{self._take('22')}{self._suffix}"

    def item_pid(self) -> str:
        """A new physical item pid (``23…``)."""
        return f"23{self._take('23')}{self._suffix}"

    def request_id(self) -> str:
        """A new user request id."""
        return f"{self._take('req')}{self._suffix}"

    def loan_id(self) -> str:
        """A new loan id."""
        return f"{self._take('loan')}{self._suffix}"

    def linking_id(self) -> str:
        """A new linking id for a user shared in a fulfillment network."""
        return f"{self._take('link')}{self._suffix}"

    def course_id(self) -> str:
        """A new course id."""
        return f"{self._take('course')}{self._suffix}"

    def library_id(self) -> str:
        """A new library id (``conf/libraries[].id``)."""
        return f"{self._take('lib')}{self._suffix}"
