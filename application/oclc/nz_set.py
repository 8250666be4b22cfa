"""Rule O8: the ``update by job`` ids as a new itemized NZ set, and the normalisation job run on
it (``--create-set [--run-job]``; fix: the scripts leave both to hand work).

1. The set: ``BIB_MMS`` (all titles), named after the run (`set_name`: Alma refuses a name
   twice, and the name tells an operator which run made it). When the answer to the creation is
   lost (`AlmaOutcomeUnknown`), the set is looked up by its name with `ItemizedSets.set_named`
   before anything else, and made again only when Alma has none (ADR 0007).
2. Its members: the ids in order, in calls of at most 1,000 (`MAX_MEMBERS_PER_CALL`). The run
   record ``nz_set`` (key ``set``) holds the set id, its name and how many ids are in, updated
   after each call, so a resumed run (B5) adds only the rest to the same set. A call Alma
   refuses with `MembersAlreadyInSet` went through before its answer was lost: it counts as
   added.
3. With ``--run-job``, `application.oclc.nz_job.NormalizationJob` runs the job on the set and
   waits for it.

The import of ``for_import_to_NZ.xlsx`` stays with the operator (O8).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from application.oclc.nz_job import NormalizationJob
from application.oclc.outcomes import NZ_SET
from application.ports.alma.jobs import JobInstance
from application.ports.alma.sets import (
    MAX_MEMBERS_PER_CALL,
    AlmaSet,
    ItemizedSets,
    MembersAlreadyInSet,
    SetNameTaken,
)
from application.shared.alma import AlmaOutcomeUnknown
from application.shared.ledger_records import JsonObject
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome

__all__ = ["SET_KEY", "NzSetChain", "NzSetResult", "set_name"]

SET_KEY: Final = "set"
CONTENT: Final = "BIB_MMS"


def set_name(run_id: int, day: date) -> str:
    """The set's name: ``almabridge oclc-sync run {id} {YYYY-MM-DD}``."""
    return f"almabridge oclc-sync run {run_id} {day:%Y-%m-%d}"


@dataclass(frozen=True)
class NzSetResult:
    """What O8 did: the set (with the ids in it) and the job's finished instance, if run."""

    set_id: str
    name: str
    members: int
    instance: JobInstance | None = None


class NzSetChain:
    """Rule O8 over the NZ's `ItemizedSets` and, for ``--run-job``, its `NormalizationJob`."""

    def __init__(
        self,
        sets: ItemizedSets,
        job: NormalizationJob | None = None,
        *,
        members_per_call: int = MAX_MEMBERS_PER_CALL,
    ) -> None:
        if not 1 <= members_per_call <= MAX_MEMBERS_PER_CALL:
            raise ValueError(f"members_per_call must be 1 to {MAX_MEMBERS_PER_CALL}")
        self._sets = sets
        self._job = job
        self._per_call = members_per_call

    @property
    def institution(self) -> str:
        """The Network Zone's institution code."""
        return self._sets.institution

    @property
    def runs_job(self) -> bool:
        return self._job is not None

    async def run(self, context: RunContext, ids: Sequence[str], day: date) -> NzSetResult:
        """Make the set of ``ids`` (in order, distinct) and run the job on it."""
        set_id, name, added = await self._set(context, day, len(ids))
        added = await self._fill(context, set_id, name, added, ids)
        instance = None
        if self._job is not None:
            instance = await self._job.run(context, set_id, name)
        return NzSetResult(set_id, name, added, instance)

    # ---- the set ------------------------------------------------------------------------------

    async def _set(self, context: RunContext, day: date, total: int) -> tuple[str, str, int]:
        earlier = context.earlier(NZ_SET, SET_KEY)
        if earlier is not None:
            detail = earlier.detail
            set_id, name, added = detail.get("set_id"), detail.get("name"), detail.get("members")
            if isinstance(set_id, str) and isinstance(name, str) and isinstance(added, int):
                context.progress(f"set {set_id} ({name}) was made by run {earlier.run_id}")
                return set_id, name, added
        name = set_name(context.run_id, day)
        made = await self._create(context, name)
        await self._record(context, made.id, name, 0, total)
        context.progress(f"made itemized set {made.id} ({name}) in {self.institution}")
        return made.id, name, 0

    async def _create(self, context: RunContext, name: str) -> AlmaSet:
        description = f"update by job ids of {name}, for the job Move OCLC 035 $a to $z"
        try:
            return await self._sets.create_itemized_set(name, CONTENT, description)
        except SetNameTaken:
            raise RunFailed(
                f"Alma {self.institution} already has a set named {name!r}; rename or delete "
                "it, then run again"
            ) from None
        except AlmaOutcomeUnknown:
            context.progress(f"the answer to making set {name!r} was lost; looking it up")
        found = await self._sets.set_named(name)  # ADR 0007: look before making it again
        if found is not None:
            return found
        try:
            return await self._sets.create_itemized_set(name, CONTENT, description)
        except SetNameTaken:
            found = await self._sets.set_named(name)
            if found is None:
                raise
            return found

    async def _fill(
        self, context: RunContext, set_id: str, name: str, added: int, ids: Sequence[str]
    ) -> int:
        if added >= len(ids):  # an earlier run filled it (B5): this run names it too
            await self._record(context, set_id, name, added, len(ids))
        for start in range(added, len(ids), self._per_call):
            chunk = ids[start : start + self._per_call]
            try:
                await self._sets.add_members(set_id, chunk)
            except MembersAlreadyInSet:
                context.progress(f"ids {start + 1}-{start + len(chunk)} were in set {set_id}")
            added = start + len(chunk)
            await self._record(context, set_id, name, added, len(ids))
        return added

    async def _record(
        self, context: RunContext, set_id: str, name: str, added: int, total: int
    ) -> None:
        detail: JsonObject = {
            "set_id": set_id,
            "name": name,
            "institution": self.institution,
            "members": added,
            "of": total,
        }
        reason = (
            f"itemized set {set_id} ({name}) of {self.institution}: {added} of {total} update "
            "by job ids added"
        )
        await context.record(NZ_SET, SET_KEY, RecordOutcome.OK, reason, detail)
