"""ArchivesSpace to Alma, `almabridge run aspace2alma` (rules AS1–AS6, B1–B5, B8).

1. AS1: the remote folder is cleared for today first (`DropFolder.rotate`), before any
   ArchivesSpace call; not at all with ``--no-upload`` or ``--dry-run``.
2. AS3: the known barcodes are the descriptions of the configured Alma set's members (its
   pages asked for together, paced by the institution's throttle). They are kept in
   ``known_barcodes.txt`` under ``--out`` so a resumed run does not read the set again (B5).
   A set Alma does not know ends the run failed before anything is uploaded.
3. AS2: every resource of every repository, in repository order then resource id order. Each
   resource's MARCXML, and its top containers unless rule 17 leaves it out anyway, are fetched
   ahead of the one being written (``concurrency`` calls in flight in the adapter), starting
   while the set is still read. A connection error or a 5xx retries the resource after 1, 2
   and 3 s (at most 4 tries, `ResourceFetcher`); then, or on any other error, the resource is
   recorded failed and the run goes on.
4. AS4, AS5: in output order, each record is transformed (`domain.aspace`) against the known
   barcodes, which grow with every 949 written, and appended to ``MARC_out.xml``; a record
   without 008, 041 or 099 is recorded failed and left out.
5. AS6: the file gets its final name under ``--out`` once complete, then goes up as
   ``MARC_out.xml`` through a temporary name and a rename.

Every resource is a run record (kind ``resource``, key its URI ``/repositories/3/resources/1511``):
ok with its call number and items, skipped when rule 17 leaves it out, failed with the reason.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from application.aspace.drop_folder import DropFolder, DropFolderFailed
from application.aspace.ports import (
    ArchivesSpace,
    ArchivesSpaceError,
    ArchivesSpaceLoginFailed,
    CollectionFiles,
    CollectionSink,
    ResourceMarc,
    UnwritableRecord,
)
from application.aspace.resource_fetch import Fetched, ResourceFetcher, Sleep
from application.ports.alma.sets import MAX_SET_PAGE, SetMember, SetMembers, SetNotFound
from application.shared.alma import AlmaError, AlmaStop
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome
from domain.aspace.transform import Excluded, Rejected, transform_record
from domain.shared.aspace_rules import AspaceRules

__all__ = ["ASPACE2ALMA", "KNOWN_BARCODES", "RESOURCE", "ExportCollection"]

ASPACE2ALMA: Final = "aspace2alma"
"""The workflow's name, as `almabridge run aspace2alma` takes it."""
RESOURCE: Final = "resource"
"""The run-record kind of one ArchivesSpace resource, keyed by its URI."""
KNOWN_BARCODES: Final = "known_barcodes"
"""The run-record kind of the Alma set read (AS3), keyed by the set id."""
BARCODES_FILE: Final = "known_barcodes.txt"
_PROGRESS_EVERY: Final = 100
_SET_PAGES_IN_FLIGHT: Final = 25
"""Set pages asked for at once: a second's worth at Alma's limit; the client paces them."""
_HELD_WHILE_THE_SET_IS_READ: Final = 1000
"""Resources fetched ahead of the one being written: the ArchivesSpace reads go on while the
set's barcodes are still coming, the adapter's ``concurrency`` keeps the calls in flight, and
memory stays bounded (a resource is a few tens of KB)."""


@dataclass
class _Tally:
    written: int = 0
    items: int = 0
    left_out: int = 0
    failed: int = 0
    seen: int = field(default=0)


class ExportCollection:
    """ArchivesSpace to Alma (see the module text)."""

    name = ASPACE2ALMA

    def __init__(
        self,
        aspace: ArchivesSpace,
        members: SetMembers,
        marc: ResourceMarc,
        files: CollectionFiles,
        rules: AspaceRules,
        barcode_set: str,
        *,
        drop: DropFolder | None = None,
        concurrency: int = 4,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, got {concurrency}")
        self._aspace = aspace
        self._members = members
        self._fetcher = ResourceFetcher(aspace, marc, rules, sleep=sleep)
        self._files = files
        self._rules = rules
        self._barcode_set = barcode_set
        self._drop = drop
        self._concurrency = concurrency

    async def run(self, context: RunContext) -> None:
        """Rotate, read the barcodes and the resources, write and upload the collection."""
        drop = None if context.dry_run else self._drop
        if drop is not None:
            await self._rotate(context, drop)
        # The set (hundreds of Alma calls) is read while ArchivesSpace is listed and fetched;
        # only the first transform waits for it.
        barcodes = asyncio.ensure_future(self._known_barcodes(context))
        try:
            resources = await self._resources(context)
            sink = await self._files.open(context.out_dir)
            try:
                tally = await self._write(context, sink, resources, barcodes)
                path = await sink.finish()
            except ArchivesSpaceLoginFailed as refused:
                # A session lost mid-run and the new login refused (a password changed): no
                # further resource can be read, so the run stops in one sentence (B2).
                await sink.discard()
                raise RunFailed(f"ArchivesSpace refused the login: {refused}") from None
            except BaseException:
                await sink.discard()
                raise
        finally:
            if not barcodes.done():
                barcodes.cancel()
            elif not barcodes.cancelled():
                barcodes.exception()  # retrieved: a failure already told is not logged again
        await context.add_output(path.name, path)
        context.progress(
            f"wrote {path.name}: {tally.written} records with {tally.items} items; "
            f"{tally.left_out} left out by rule 17, {tally.failed} failed"
        )
        if drop is not None:
            context.progress(f"uploading {path.name} to {drop.target}")
            try:
                await drop.upload(path)
            except DropFolderFailed as failed:
                raise RunFailed(failed.sentence) from None

    async def _rotate(self, context: RunContext, drop: DropFolder) -> None:
        if context.earlier_records("rotation"):
            return  # B5: the run resumed rotated already; today's file is not up yet
        try:
            done = await drop.rotate()
        except DropFolderFailed as failed:
            raise RunFailed(failed.sentence) from None
        said = "; ".join(done) or "no MARC_out.xml or MARC_out_old.xml there"
        await context.record("rotation", drop.target, RecordOutcome.OK, said)
        context.progress(f"{drop.target}: {said}")

    async def _known_barcodes(self, context: RunContext) -> set[str]:
        """AS3: the set's barcodes, from the file a resumed run's original kept (B5)."""
        kept = context.out_dir / BARCODES_FILE
        earlier = context.earlier(KNOWN_BARCODES, self._barcode_set)
        if earlier is not None and await asyncio.to_thread(kept.is_file):
            text = await asyncio.to_thread(kept.read_text, "utf-8")
            return {line for line in text.splitlines() if line}
        context.progress(f"reading the barcodes of Alma set {self._barcode_set}")
        known: set[str] = set()
        try:
            for member in await self._set_members():
                barcode = (member.description or "").strip()
                if barcode:  # fix: an empty barcode never counts as known (nor qualifies)
                    known.add(barcode)
        except SetNotFound:
            raise RunFailed(
                f"Alma has no set {self._barcode_set} ([aspace2alma] barcode_set): without its "
                "barcodes no item can be told new; nothing was uploaded"
            ) from None
        except (AlmaError, AlmaStop) as error:
            raise RunFailed(
                f"the barcodes of Alma set {self._barcode_set} could not be read: {error}"
            ) from None
        await asyncio.to_thread(_write_lines, kept, sorted(known))
        await context.record(
            KNOWN_BARCODES, self._barcode_set, RecordOutcome.OK, f"{len(known)} barcodes"
        )
        return known

    async def _set_members(self) -> list[SetMember]:
        """Every member of the set: the first page says how many there are, the others are
        asked for together and the institution's throttle in the client keeps the pace (B4);
        upstream kept 5 threads alive, one page at a time each."""
        first = await self._members.members(self._barcode_set, limit=MAX_SET_PAGE, offset=0)
        offsets = range(MAX_SET_PAGE, first.total_record_count, MAX_SET_PAGE)
        gate = asyncio.Semaphore(_SET_PAGES_IN_FLIGHT)

        async def page(offset: int) -> Sequence[SetMember]:
            async with gate:
                found = await self._members.members(
                    self._barcode_set, limit=MAX_SET_PAGE, offset=offset
                )
                return found.records

        members = list(first.records)
        for records in await asyncio.gather(*(page(offset) for offset in offsets)):
            members.extend(records)
        return members

    async def _resources(self, context: RunContext) -> list[tuple[int, int]]:
        """AS2: (repository id, resource id) of every resource, in the output's order."""
        context.progress("listing the repositories and resources of ArchivesSpace")
        try:
            found: list[tuple[int, int]] = []
            for repository in await self._aspace.repositories():
                ids = await self._aspace.resource_ids(repository.repo_id)
                found.extend((repository.repo_id, resource) for resource in sorted(ids))
        except ArchivesSpaceError as error:
            raise RunFailed(f"ArchivesSpace cannot be read: {error}") from None
        context.progress(f"{len(found)} resources to fetch")
        return found

    async def _write(
        self,
        context: RunContext,
        sink: CollectionSink,
        resources: Sequence[tuple[int, int]],
        barcodes: asyncio.Future[set[str]],
    ) -> _Tally:
        tally = _Tally()
        # While the set is read, fetching runs up to _HELD_WHILE_THE_SET_IS_READ resources
        # ahead (the adapter keeps its calls in flight); each is written as soon as the
        # barcodes are known and every resource before it is, so a killed run keeps them (B5).
        upcoming = iter(resources)
        pending = self._fetch_next(upcoming, _HELD_WHILE_THE_SET_IS_READ)
        try:
            known = await barcodes
            while pending:
                fetched = await pending.popleft()
                pending.extend(self._fetch_next(upcoming, 1))
                await self._counted(context, sink, fetched, known, tally, len(resources))
        finally:
            for task in pending:
                task.cancel()
        return tally

    async def _counted(
        self,
        context: RunContext,
        sink: CollectionSink,
        fetched: Fetched,
        known: set[str],
        tally: _Tally,
        total: int,
    ) -> None:
        tally.seen += 1
        await self._one(context, sink, fetched, known, tally)
        if tally.seen % _PROGRESS_EVERY == 0:
            context.progress(f"{tally.seen} of {total} resources")

    async def _one(
        self,
        context: RunContext,
        sink: CollectionSink,
        fetched: Fetched,
        known: set[str],
        tally: _Tally,
    ) -> None:
        uri = fetched.uri
        if fetched.failure is not None or fetched.record is None:
            tally.failed += 1
            await context.record(RESOURCE, uri, RecordOutcome.FAILED, fetched.failure or "")
            return
        if fetched.excluded is not None:
            tally.left_out += 1
            await context.record(RESOURCE, uri, RecordOutcome.SKIPPED, fetched.excluded)
            return
        result = transform_record(fetched.record, fetched.containers, known, self._rules)
        if isinstance(result, Excluded):
            tally.left_out += 1
            await context.record(RESOURCE, uri, RecordOutcome.SKIPPED, result.reason)
            return
        if isinstance(result, Rejected):
            tally.failed += 1
            await context.record(RESOURCE, uri, RecordOutcome.FAILED, result.reason)
            return
        try:
            await sink.add(result.record)
        except UnwritableRecord as error:
            tally.failed += 1
            await context.record(RESOURCE, uri, RecordOutcome.FAILED, f"not written: {error}")
            return
        barcodes = [item.barcode for item in result.items]
        known.update(barcodes)  # AS3: a barcode an earlier record carries is not used again
        tally.written += 1
        tally.items += len(barcodes)
        items = f", items {', '.join(barcodes)}" if barcodes else ", no new item"
        tries = f" (after {fetched.tries} tries)" if fetched.tries > 1 else ""
        await context.record(
            RESOURCE,
            uri,
            RecordOutcome.OK,
            f"written as {result.call_number}{items}{tries}",
            {"call_number": result.call_number, "items": len(barcodes)},
        )

    def _fetch_next(
        self, upcoming: Iterator[tuple[int, int]], count: int
    ) -> deque[asyncio.Task[Fetched]]:
        """Start fetching the next ``count`` resources; the answers are taken in input order."""
        return deque(
            asyncio.ensure_future(self._fetcher.fetch(repo_id, resource_id))
            for repo_id, resource_id in itertools.islice(upcoming, count)
        )


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    temporary.replace(path)
