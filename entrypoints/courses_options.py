"""The stored options of a course-loading or rollover-report run, and their reading back
(rules B5, B9): what `entrypoints.courses_wiring` stores with a run and rebuilds it from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from application.courses.cem_courses import CourseRules
from application.shared.ledger_records import JsonValue
from application.shared.workflow_settings import CourseLoadingSettings
from domain.courses.transform import MergeOn
from entrypoints.workflow_entries import WorkflowUsageError

__all__ = ["CourseJobOptions"]


@dataclass(frozen=True)
class CourseJobOptions:
    """The stored options of one run of either workflow, read back (B5)."""

    workflow: str
    institution: str
    day: date
    cem: str | None = None
    push: bool = True
    date_format: str = "%d-%m-%Y"
    merge_on: MergeOn = MergeOn.CODE_AND_SECTION
    cem_encoding: str = "iso-8859-1"

    def stored(self) -> dict[str, JsonValue]:
        """The options as the ledger keeps them (no secret among them)."""
        return {
            "institution": self.institution,
            "day": self.day.isoformat(),
            "cem": self.cem,
            "push": self.push,
            "date_format": self.date_format,
            "merge_on": self.merge_on.value,
            "cem_encoding": self.cem_encoding,
        }

    @classmethod
    def read(cls, workflow: str, options: Mapping[str, JsonValue]) -> CourseJobOptions:
        """The options of a stored run; WorkflowUsageError when they are not this workflow's."""
        values = {k: options.get(k) for k in ("institution", "day", "date_format", "cem_encoding")}
        cem, merge_on = options.get("cem"), options.get("merge_on")
        try:
            if not all(isinstance(v, str) and v for v in values.values()):
                raise ValueError("a value is missing")
            if not isinstance(cem, str | None) or not isinstance(merge_on, str):
                raise ValueError("cem or merge_on")
            return cls(
                workflow,
                str(values["institution"]),
                date.fromisoformat(str(values["day"])),
                cem,
                options.get("push") is not False,
                str(values["date_format"]),
                MergeOn(merge_on),
                str(values["cem_encoding"]),
            )
        except ValueError:
            raise WorkflowUsageError(
                f"{workflow}: the run's options are not a {workflow} run's"
            ) from None

    def rules(self, settings: CourseLoadingSettings) -> CourseRules:
        """The rules of this run: its stored options, and the configured tables (B9)."""
        return CourseRules(settings.tables, self.date_format, self.merge_on, self.cem_encoding)
