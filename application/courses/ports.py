"""The narrow ports of Leganto course loading (rules L1, L2, L6, L7): where the CEM file comes
from, how it is read, where the loader file is written and where it is pushed. Alma itself is
reached through the shared role ports (`CourseCatalog` for L5 and L8, `JobInstances` for L8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from domain.courses.cem import CemFile
from domain.courses.loader_row import LoaderRow

__all__ = [
    "CemInput",
    "CemMissing",
    "CemReader",
    "CemSource",
    "LoaderPush",
    "LoaderWriter",
    "PushRefused",
]


@dataclass(frozen=True)
class CemInput:
    """The day's CEM file as fetched (L1): the name the run records it under with its sha256
    (B1; B5 refuses a resume whose input changed) and its bytes."""

    name: str
    content: bytes


class CemMissing(Exception):
    """No CEM file for the day, or its source cannot be reached: the run ends failed with this
    one sentence, naming the place and the day (L1, B2)."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class CemSource(Protocol):
    """Rule L1: a configured remote folder and glob, or the file named by ``--cem``."""

    @property
    def description(self) -> str:
        """How the operator knows it: ``campus:leganto_export_{YYYYMMDD}*``, ``--cem F``."""
        ...

    async def fetch(self, day: date, name: str | None = None) -> CemInput:
        """The CEM file of ``day`` (the newest by name when several match), or the one named
        ``name`` (a resumed run reads its original's file, B5); `CemMissing`."""
        ...


class CemReader(Protocol):
    """Rule L2: the CSV read with the configured encoding, line by line."""

    def read(self, content: bytes, encoding: str, name: str) -> CemFile:
        """Rows and unreadable lines; `domain.courses.cem.CemUnusable` for a file that cannot
        be read at all (missing columns named)."""
        ...


class LoaderWriter(Protocol):
    """Rule L6, B3: a loader file (or rollover report) written under its final name only once
    complete."""

    async def write(self, folder: Path, name: str, rows: Sequence[LoaderRow]) -> Path:
        """Write the header and ``rows``; returns the final path."""
        ...


class PushRefused(Exception):
    """The loader file was not delivered (L7): a file of that name is already there, the server
    refused, or the listing afterwards does not show it. One sentence naming the remote path."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class LoaderPush(Protocol):
    """Rule L7: the remote folder the Alma course loader integration profile reads."""

    @property
    def target(self) -> str:
        """The configured reference, for messages: ``alma`` or ``alma:course_loader``."""
        ...

    async def push(self, path: Path) -> None:
        """Upload under a temporary name and rename; never over a file of that name; check
        the listing afterwards. `PushRefused` when the file is not delivered."""
        ...

    async def last_push(self) -> datetime | None:
        """When the newest loader file there was stamped (its ``YYYYmmddHHMMSS`` name, local
        time), for L8's ``report_delay_minutes``; None when there is none."""
        ...
