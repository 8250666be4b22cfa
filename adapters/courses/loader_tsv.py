"""Alma's course loader file (rules L6, B3): a header row and the 34 columns of each row,
tab-separated, every line ending CRLF, UTF-8 (fix: upstream writes 31 columns, LF, and the
locale's encoding, where Alma asks for CRLF and UTF-8 or ASCII).

`LoaderFiles` writes one atomically: under a hidden temporary name in the same folder, synced,
then renamed, so that neither Alma's profile nor the push (L7) ever sees half a file. The
rollover report (L8) is the same format.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Final

from application.shared.files import MalformedFile
from domain.courses.loader_row import LOADER_HEADER, LoaderRow

__all__ = ["LoaderFiles", "read_loader_file", "render_loader_file"]

_NEWLINE: Final = "\r\n"  # Alma: "UTF-8 or ASCII format with CRLF line termination"
_ENCODING: Final = "utf-8"


def render_loader_file(rows: Iterable[LoaderRow]) -> bytes:
    """The whole file: `LOADER_HEADER`, then each row's cells (L6)."""
    return b"".join(_encoded_lines(rows))


def read_loader_file(content: bytes, *, name: str = "the loader file") -> list[LoaderRow]:
    """The rows of a 34-column loader file, its header row skipped.

    LF alone is accepted as well as CRLF, and a UTF-8 byte-order mark, so that a file an
    operator edited can be checked; `MalformedFile` names the line that is not a row.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        at = content.count(b"\n", 0, error.start) + 1
        raise MalformedFile(
            name, f"not UTF-8 text (byte {error.start})", position=f"line {at}"
        ) from None
    # Split on \n only: a cell may hold other characters str.splitlines treats as line ends.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the last line's own ending
    if not lines:
        raise MalformedFile(name, "empty: a loader file starts with its header row")
    header = lines[0].removesuffix("\r").split("\t")
    if len(header) != len(LOADER_HEADER):
        raise MalformedFile(
            name,
            f"the header has {len(header)} columns, a loader file {len(LOADER_HEADER)}",
            position="line 1",
        )
    rows: list[LoaderRow] = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.removesuffix("\r").split("\t")
        if cells == [""]:
            continue  # a blank line holds no course
        try:
            rows.append(LoaderRow.from_cells(cells))
        except ValueError as error:
            raise MalformedFile(name, str(error), position=f"line {number}") from None
    return rows


class LoaderFiles:
    """The `application.courses.ports.LoaderWriter` port on this machine's disk (L6, B3)."""

    async def write(self, folder: Path, name: str, rows: Sequence[LoaderRow]) -> Path:
        """Write ``folder/name`` atomically in a worker thread; returns the final path."""
        return await asyncio.to_thread(_write, folder, name, rows)


def _write(folder: Path, name: str, rows: Sequence[LoaderRow]) -> Path:
    if not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"a loader file name is a plain file name, not {name!r}")
    folder.mkdir(parents=True, exist_ok=True)  # B8: the output folder is made when absent
    final = folder / name
    # Hidden (a leading dot) and unique: a folder watcher or a second run never takes it for
    # a loader file, and two writers never share one.
    part = folder / f".{name}.{secrets.token_hex(4)}.part"
    # O_EXCL: never write through a file or link someone else put there; 0o666 as open() does,
    # so the finished file has the usual permissions under the umask.
    descriptor = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            # Streamed: a row that cannot be rendered fails here, before any final name exists.
            handle.writelines(_encoded_lines(rows))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, final)  # B3: the final name only when complete
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    _sync_folder(folder)
    return final


def _sync_folder(folder: Path) -> None:
    """The rename itself made durable, where the platform allows a folder to be synced."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _encoded_lines(rows: Iterable[LoaderRow]) -> Iterator[bytes]:
    yield _line(LOADER_HEADER)
    for row in rows:
        yield _line(row.cells())


def _line(cells: Sequence[str]) -> bytes:
    # cells() has already made every tab and line break inside a value a space (L6).
    return ("\t".join(cells) + _NEWLINE).encode(_ENCODING)
