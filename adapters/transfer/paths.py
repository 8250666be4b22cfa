"""POSIX path helpers shared by every adapter: joining, claim targets, temporary names."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

CLAIM_FOLDER = "OLD"
# A name claimed this many times already is a loop somewhere, not Alma reusing a name.
MAX_CLAIMS_OF_ONE_NAME = 1000


def join(folder: str, name: str) -> str:
    """``folder/name``; an empty folder is the login folder, so the result stays relative."""
    if not folder:
        return name
    base = folder.rstrip("/")
    return f"{base}/{name}" if base else f"/{name}"


def split(path: str) -> tuple[str, str]:
    """The folder and the name of a file path (the folder is ``""`` for a bare name)."""
    folder, name = posixpath.split(path.rstrip("/") or path)
    return folder, name


def claim_targets(folder: str, name: str) -> Iterator[str]:
    """Where a claim of ``folder/name`` may land: ``OLD/name``, then ``OLD/name.1``, ``.2``, …

    Alma names publishing files with a timestamp, so a second file of one name is rare; when it
    happens the earlier claim must survive, so the later one takes the next free suffix.
    """
    old = join(folder, CLAIM_FOLDER)
    yield join(old, name)
    for number in range(1, MAX_CLAIMS_OF_ONE_NAME):
        yield join(old, f"{name}.{number}")


def upload_temporary(path: str) -> str:
    """``{dir}/.{name}.uploading``: hidden, so listings skip it until the final rename."""
    folder, name = split(path)
    return join(folder, f".{name}.uploading")


def is_listed(name: str) -> bool:
    """Dotfiles are never offered for claiming: they are uploads in progress or server files."""
    return not name.startswith(".")


def part_path(local: Path) -> Path:
    """Where a download is written until it is complete."""
    return local.with_name(local.name + ".part")
