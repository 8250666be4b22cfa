"""The ports one running bridge works through, handed to every use case as one value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.ports import FailureReports, PublishingFiles, RequestFiles
from application.scf.settings import Settings


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

    def member_code(self, institution: str) -> str:
        """The configured spelling of a member institution's code (any case given);
        ValueError naming it when it is not a configured member (the SCF is not one)."""
        consortium = self.settings.consortium
        configured = consortium.institution(institution)
        if configured is None or consortium.is_scf(configured.code):
            raise ValueError(f"{institution} is not a configured member institution")
        return configured.code

    def remote_folder(self, institution: str, kind: str) -> str:
        """`{main_folder}/{INST}/items` or `/requests` (rules I1, R1)."""
        main = self.settings.file_server.main_folder.rstrip("/")
        return f"{main}/{institution}/{kind}"
