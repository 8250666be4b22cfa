"""The ports one running bridge works through, handed to every use case as one value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from application.ports import (
    AlmaDirectory,
    Clock,
    FailureReports,
    FileTransfer,
    Ledger,
    PublishingFiles,
    RequestFiles,
)
from application.settings import Settings


@dataclass(frozen=True)
class Bridge:
    """Settings plus one adapter per port; `work_dir` holds downloaded and unpacked files."""

    settings: Settings
    alma: AlmaDirectory
    ledger: Ledger
    files: FileTransfer
    publishing: PublishingFiles
    request_files: RequestFiles
    reports: FailureReports
    clock: Clock
    work_dir: Path

    def remote_folder(self, institution: str, kind: str) -> str:
        """`{main_folder}/{INST}/items` or `/requests` (rules I1, R1)."""
        main = self.settings.file_server.main_folder.rstrip("/")
        return f"{main}/{institution}/{kind}"
