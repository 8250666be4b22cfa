"""Ports only the SCF bridge uses: conf.json, publishing and request files, failure reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from application.scf.reports import ReportRow
from domain.scf.items.published import PublishedItem
from domain.scf.requests.routing import RemoteStorageRequest


class ConfigSource(Protocol):
    """Where the conf.json text comes from: a path, or an http(s), ftp or sftp URL (rule K1)."""

    def describe(self) -> str:
        """A description safe for logs and errors: never a password."""
        ...

    async def read(self) -> bytes:
        """The raw configuration bytes; raises ConfigSourceError naming the source on failure."""
        ...


# --- Ledger -------------------------------------------------------------------------------------
# Rows are read and written through a unit of work that rolls back unless committed, so an action
# and its ledger event land together or not at all. Timestamps come from the injected Clock.


class PublishingFiles(Protocol):
    """Reads a member's publishing output: safe unpacking and streamed MARCXML (I2–I4)."""

    async def unpack(self, archive: Path, into: Path) -> list[Path]:
        """The XML files of a `.tar.gz`, each archive in its own folder under `into`; a bare
        `.xml` is returned as it is. Raises `ArchiveRefused` for an unsafe or broken archive."""
        ...

    def read_items(self, xml_file: Path, institution: str) -> AsyncIterator[PublishedItem]:
        """Every ITM of every record, in file order, in constant memory; raises `MalformedFile`
        naming the file and the record position where reading stopped."""
        ...


class RequestFiles(Protocol):
    """Reads a member's remote-storage request export (rule R2)."""

    def read_requests(self, path: Path) -> AsyncIterator[RemoteStorageRequest]:
        """Every `rsExport` in file order; raises `MalformedFile` naming the file and line."""
        ...


class FailureReports(Protocol):
    """Appends failures to the daily CSV reports when `report_file_folder` is set (rule P1)."""

    async def append(self, row: ReportRow) -> None:
        """Add one row to `{report}_log_{yyyyMMdd}.csv` of the row's day."""
        ...
