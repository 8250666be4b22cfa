"""Safe extraction of Alma publishing archives (rule I2).

Alma's publishing job writes one ``.tar.gz`` per output file, each holding one MARCXML member. The
Java app extracted every archive into one flat folder, so two archives with the same member name
overwrote each other, and it trusted every member. Here:

- each archive gets its own new directory under the target folder, named after the archive (a
  counter is added when that name is taken), so nothing is ever shared or overwritten;
- every member is checked explicitly before a byte of it is written: absolute paths, ``..``
  components, symbolic and hard links, devices, FIFOs, sparse files and anything but regular files
  and directories are refused, as are duplicate names and more than ``max_members`` members;
- sizes are capped while streaming: a member whose declared size would pass ``max_total_bytes``
  is refused before it is read, and the decompressed stream itself is counted, so a bomb hidden in
  tar headers (pax records, GNU long names) stops at the cap instead of filling memory or disk;
- a truncated gzip stream or a corrupt tar is refused with the reason;
- a refused archive leaves nothing behind: its directory is removed.

The tar is read in stream mode (``r|``) and members are written by this module, never by
``TarFile.extract``, so no tarfile filter has to be trusted and no member is ever seeked back to.
The work is blocking; ``MarcPublishingFiles.unpack`` runs it in a worker thread.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from application.shared.files import ArchiveRefused

__all__ = [
    "ARCHIVE_SUFFIXES",
    "ArchiveLimits",
    "ExtractionCancelled",
    "archive_stem",
    "extract_archive",
    "is_archive",
]

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
"""Names Alma's publishing job gives its archives (matched in any case)."""

COPY_CHUNK_BYTES = 1024 * 1024
"""How much of a member is copied at a time: the unit of cap and cancellation checks."""

HEADER_ALLOWANCE_BYTES = 4096
"""Decompressed bytes allowed per member beyond its content: tar header, padding, pax record."""

STREAM_ALLOWANCE_BYTES = 64 * 1024
"""Decompressed bytes allowed once per archive: end-of-archive blocks and record padding."""


@dataclass(frozen=True)
class ArchiveLimits:
    """Caps on what one archive may extract to; a bigger archive is refused (rule I2).

    A daily Alma publishing archive of a large institution is a few hundred megabytes of MARCXML
    in one member, so 2 GiB and 10,000 members leave ample room while stopping a bomb early.
    """

    max_total_bytes: int = 2 * 1024**3
    max_members: int = 10_000

    def __post_init__(self) -> None:
        if self.max_total_bytes <= 0 or self.max_members <= 0:
            raise ValueError(f"archive limits must be positive, got {self}")

    @property
    def max_stream_bytes(self) -> int:
        """The most decompressed tar bytes read before the archive is refused."""
        return (
            self.max_total_bytes
            + HEADER_ALLOWANCE_BYTES * self.max_members
            + STREAM_ALLOWANCE_BYTES
        )


def is_archive(path: Path) -> bool:
    """Whether the file name says it is a publishing archive (``.tar.gz`` or ``.tgz``)."""
    return path.name.casefold().endswith(ARCHIVE_SUFFIXES)


def archive_stem(path: Path) -> str:
    """The archive name without ``.tar.gz``/``.tgz`` (and a ``.xml`` before it, as in Alma's
    ``…_new_1.xml.tar.gz``): the name of the directory it is extracted into."""
    name = path.name
    folded = name.casefold()
    for suffix in (*(".xml" + s for s in ARCHIVE_SUFFIXES), *ARCHIVE_SUFFIXES):
        if folded.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def extract_archive(
    archive: Path,
    into: Path,
    limits: ArchiveLimits | None = None,
    cancelled: threading.Event | None = None,
) -> list[Path]:
    """Extract ``archive`` into a new directory under ``into``; its ``.xml`` files, in archive
    order. Blocking. Raises ``ArchiveRefused`` (and removes the directory) for an unsafe or broken
    archive; errors writing to the local disk propagate unchanged after the same clean-up."""
    limits = limits or ArchiveLimits()
    into.mkdir(parents=True, exist_ok=True)
    target = _new_directory(into, archive_stem(archive))
    try:
        return _Extraction(archive, target, limits, cancelled).run()
    except BaseException:
        # Nothing of a refused (or interrupted) archive may be used, so nothing of it is kept.
        shutil.rmtree(target, ignore_errors=True)
        raise


def _new_directory(into: Path, stem: str) -> Path:
    # mkdir without exist_ok is atomic: of two concurrent unpacks of same-named archives, each
    # gets its own directory, and a leftover from an earlier run is never reused.
    candidate = into / stem
    number = 1
    while True:
        try:
            candidate.mkdir()
        except FileExistsError:
            number += 1
            candidate = into / f"{stem}-{number}"
        else:
            return candidate


class _Refused(Exception):
    """Internal: why the archive is refused, turned into ``ArchiveRefused`` by the caller."""


class ExtractionCancelled(Exception):
    """The coroutine awaiting the extraction was cancelled: it stopped and removed its files."""


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CappedReader:
    """The decompressed tar stream, refusing to yield more than ``cap`` bytes in total.

    tarfile buffers pax records and GNU long names whole, before any member check can run, so the
    cap has to sit underneath tarfile, on the decompressed bytes themselves.
    """

    def __init__(self, source: _Readable, cap: int) -> None:
        self._source = source
        self._cap = cap
        self.total = 0

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            size = COPY_CHUNK_BYTES
        # Never ask gzip for more than one byte beyond the cap: a bomb is stopped right there.
        data = self._source.read(min(size, self._cap - self.total + 1))
        self.total += len(data)
        if self.total > self._cap:
            raise _Refused(f"decompresses to more than {self._cap} bytes (cap)")
        return data


class _Extraction:
    """One archive being extracted into its own directory."""

    def __init__(
        self,
        archive: Path,
        target: Path,
        limits: ArchiveLimits,
        cancelled: threading.Event | None,
    ) -> None:
        self._archive = archive
        self._target = target
        self._resolved_target = target.resolve()
        self._limits = limits
        self._cancelled = cancelled
        self._members = 0
        self._total_bytes = 0
        self._seen: set[PurePosixPath] = set()

    def run(self) -> list[Path]:
        where = self._archive.name
        try:
            with (
                self._archive.open("rb") as raw,
                gzip.GzipFile(fileobj=raw, mode="rb") as unzipped,
            ):
                capped = _CappedReader(unzipped, self._limits.max_stream_bytes)
                with tarfile.open(fileobj=capped, mode="r|") as tar:  # type: ignore[call-overload]
                    xml_files = self._extract_members(tar)
                self._read_to_end(capped)
                return xml_files
        except _Refused as refused:
            raise ArchiveRefused(where, str(refused)) from None
        except EOFError as error:
            # gzip's "Compressed file ended before the end-of-stream marker was reached".
            raise ArchiveRefused(where, f"truncated gzip stream: {error}") from None
        except (gzip.BadGzipFile, zlib.error) as error:
            raise ArchiveRefused(where, f"not a valid gzip stream: {error}") from None
        except tarfile.TarError as error:
            raise ArchiveRefused(where, f"not a valid tar archive: {error}") from None

    def _read_to_end(self, stream: _Readable) -> None:
        # tarfile stops at the end-of-archive blocks; reading on to the end of the gzip stream
        # checks its CRC and length, so a truncated trailer is refused too. Only the padding of
        # the last tar record may follow: anything longer is not what a tar writer leaves.
        trailing = 0
        while chunk := stream.read(STREAM_ALLOWANCE_BYTES):
            trailing += len(chunk)
            if trailing > STREAM_ALLOWANCE_BYTES:
                raise _Refused("unexpected data after the end of the tar archive")

    def _extract_members(self, tar: tarfile.TarFile) -> list[Path]:
        xml_files: list[Path] = []
        for member in tar:
            self._check_cancelled()
            self._members += 1
            if self._members > self._limits.max_members:
                raise _Refused(
                    f"member {member.name!r}: more than {self._limits.max_members} members (cap)"
                )
            relative = self._safe_name(member)
            if relative is None:  # "." or "./": the archive root, which already exists
                continue
            if member.isdir():
                self._make_directory(member, relative)
            elif member.isreg() and not member.issparse():
                path = self._write_file(tar, member, relative)
                if path.name.casefold().endswith(".xml"):
                    xml_files.append(path)
            else:
                raise _Refused(f"member {member.name!r}: {_kind(member)} refused")
        return xml_files

    def _safe_name(self, member: tarfile.TarInfo) -> PurePosixPath | None:
        name = member.name
        if not name or "\x00" in name:
            raise _Refused(f"member {name!r}: empty or invalid name")
        # A backslash is a separator on Windows and "C:" a drive: refused too, since such a name
        # only appears in a crafted archive and would be unsafe wherever the folder is copied.
        if name.startswith(("/", "\\")) or (name[:1].isalpha() and name[1:2] == ":"):
            raise _Refused(f"member {name!r}: absolute path refused")
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if ".." in parts:
            raise _Refused(f"member {name!r}: '..' in path refused")
        relative = PurePosixPath(*[part for part in parts if part != "."]) if parts else None
        if relative is None or relative == PurePosixPath("."):
            return None
        if relative in self._seen:
            # A second member of the same name would overwrite the first (the Java bug of I2).
            raise _Refused(f"member {name!r}: duplicate name refused")
        self._seen.add(relative)
        # Belt and braces: the joined path must stay inside this archive's own directory.
        destination = (self._resolved_target / relative).resolve()
        if not destination.is_relative_to(self._resolved_target):
            raise _Refused(f"member {name!r}: path escapes the extraction directory")
        return relative

    def _make_directory(self, member: tarfile.TarInfo, relative: PurePosixPath) -> None:
        try:
            (self._target / relative).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise _Refused(f"member {member.name!r}: conflicts with a file member") from None

    def _write_file(
        self, tar: tarfile.TarFile, member: tarfile.TarInfo, relative: PurePosixPath
    ) -> Path:
        # The declared size is checked first, so a bomb's one huge member is refused unread.
        if self._total_bytes + member.size > self._limits.max_total_bytes:
            raise _Refused(
                f"member {member.name!r}: {member.size} bytes would take the archive past "
                f"{self._limits.max_total_bytes} bytes (cap)"
            )
        path = self._target / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # "x": never overwrite and never follow something already there.
            out = path.open("xb")
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise _Refused(f"member {member.name!r}: conflicts with another member") from None
        source = tar.extractfile(member)
        if source is None:  # isreg() members always have content; kept for the type checker
            out.close()
            raise _Refused(f"member {member.name!r}: has no content")
        written = 0
        with out, source:
            while chunk := source.read(COPY_CHUNK_BYTES):
                self._check_cancelled()
                written += len(chunk)
                # Counted again while copying: the cap holds even if a header lied.
                if self._total_bytes + written > self._limits.max_total_bytes:
                    raise _Refused(
                        f"member {member.name!r}: archive passes "
                        f"{self._limits.max_total_bytes} bytes (cap)"
                    )
                out.write(chunk)
        if written != member.size:
            raise _Refused(f"member {member.name!r}: truncated ({written} of {member.size} bytes)")
        self._total_bytes += written
        return path

    def _check_cancelled(self) -> None:
        if self._cancelled is not None and self._cancelled.is_set():
            raise ExtractionCancelled(self._archive.name)


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"hard link to {member.linkname!r}"
    if member.ischr() or member.isblk():
        return "device"
    if member.isfifo():
        return "FIFO"
    if member.issparse():
        return "sparse file"
    return f"member of type {member.type!r}"
