"""The claim's reading of a failed move, on the in-memory twin with scripted failures.

A connection that drops during the rename leaves the claimer unsure whether the rename happened;
the outcome is read off the server: source still there → retry; gone but at the target → ours;
gone and not at the target → another claimer's.
"""

from __future__ import annotations

import errno

import pytest

from adapters.transfer import InMemoryFileTransfer, MemoryFiles, RetryPolicy
from application.shared.files import ClaimedFile, RemoteFile, TransferError

ITEMS = "/alma/01AAA_AB/items"
FILE = RemoteFile(folder=ITEMS, name="a.xml")


class ScriptedMoves(InMemoryFileTransfer):
    """Moves that fail as scripted: ``(move_first, error)`` per attempt, then succeed."""

    def __init__(self, files: MemoryFiles, script: list[tuple[bool, OSError]]) -> None:
        super().__init__(files, retry=RetryPolicy(attempts=3, first_delay=0.0))
        self.script = script
        self.attempts = 0

    async def _move(self, source: str, target: str) -> None:
        self.attempts += 1
        if self.script:
            move_first, error = self.script.pop(0)
            if move_first:
                await super()._move(source, target)
            raise error
        await super()._move(source, target)


def _dropped() -> OSError:
    return ConnectionResetError(errno.ECONNRESET, "connection dropped")


def _files() -> MemoryFiles:
    files = MemoryFiles()
    files.put(f"{ITEMS}/a.xml", b"a")
    return files


async def test_a_move_dropped_before_it_happened_is_retried() -> None:
    files = _files()
    transfer = ScriptedMoves(files, [(False, _dropped()), (False, _dropped())])
    claimed = await transfer.claim(FILE)
    assert claimed == ClaimedFile(ITEMS, "a.xml", f"{ITEMS}/OLD/a.xml")
    assert transfer.attempts == 3


async def test_a_move_dropped_after_it_happened_is_ours() -> None:
    files = _files()
    transfer = ScriptedMoves(files, [(True, _dropped())])
    claimed = await transfer.claim(FILE)
    assert claimed is not None
    assert files.files == {f"{ITEMS}/OLD/a.xml": b"a"}


async def test_a_refused_move_whose_source_is_gone_lost_the_race() -> None:
    files = _files()
    # Another claimer took it (to the same target): the refusal is final and the file theirs.
    transfer = ScriptedMoves(files, [(True, FileExistsError(errno.EEXIST, "exists"))])
    assert await transfer.claim(FILE) is None


async def test_a_move_dropped_every_time_fails_after_bounded_attempts() -> None:
    files = _files()
    transfer = ScriptedMoves(files, [(False, _dropped())] * 5)
    with pytest.raises(TransferError, match=r"cannot move it to .*OLD/a\.xml: connection failed"):
        await transfer.claim(FILE)
    assert transfer.attempts == 3
    assert files.files == {f"{ITEMS}/a.xml": b"a"}


async def test_a_target_appearing_during_the_move_moves_on_to_the_next_name() -> None:
    files = _files()
    transfer = ScriptedMoves(files, [])

    async def racing_move(source: str, target: str) -> None:
        if target.endswith("OLD/a.xml"):
            files.put(target, b"someone else's")  # e.g. an FTP server refusing RNTO with 550
            raise FileExistsError(errno.EEXIST, "exists")
        files.move(source, target, replace=False)

    transfer._move = racing_move  # type: ignore[method-assign]
    claimed = await transfer.claim(FILE)
    assert claimed is not None
    assert claimed.claimed_path == f"{ITEMS}/OLD/a.xml.1"
    assert files.files[f"{ITEMS}/OLD/a.xml"] == b"someone else's"


def test_retry_delays_grow_and_stay_bounded() -> None:
    policy = RetryPolicy(attempts=6, first_delay=0.5, max_delay=2.0)
    for failed, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 2.0), (5, 2.0)]:
        assert ceiling / 2 <= policy.delay(failed) <= ceiling
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(attempts=0)
