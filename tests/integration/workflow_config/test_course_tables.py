"""``[course_loading]``'s rule tables in the workflows file (rules L3, B9): ASU's shipped as the
example, a deployment's own read, every problem naming its key path."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import pytest
import typer
from typer.testing import CliRunner

from adapters.workflow_config import load_workflow_settings
from adapters.workflow_config.summary import summarise
from application.shared.workflow_settings import WorkflowSettings
from domain.shared.asu_course_tables import ASU_TABLES
from domain.shared.course_tables import CampusRule, PrefixField, PrefixOverride, TermRule
from entrypoints.cli import workflows_command
from tests.integration.workflow_config.support import (
    ALMA,
    EXAMPLE,
    SECRET_ENVIRONMENT,
    load,
    problems,
)

# The remotes the course-loading defaults name, so that only the tables can be wrong.
REMOTES = """
[remotes.campus]
url = "file:///srv/campus"
[remotes.alma]
url = "file:///srv/alma"
"""

OWN_TABLES = """
[course_loading]
campus_fallback = "MAIN"
college_fallback = "UNSORTED"
term_fallback = "NOTERM"

[[course_loading.campus]]
campuses = ["NORTH", "SOUTH"]
department = "NORTH_LIB"
colleges = { LW = "LAW_LIB" }

[[course_loading.campus]]
campuses = ["CITY"]
[course_loading.campus.colleges]
MED = "HEALTH"
ENG = "SCIENCE"

[[course_loading.overrides]]
course_code_prefixes = ["DEV"]
department = "UNSORTED"

[course_loading.terms]
"10" = { Fall = "AUTUMN", FallA = "TERM1" }
"""


def test_B9_L3_the_example_ships_asus_tables() -> None:
    settings = load_workflow_settings(EXAMPLE, SECRET_ENVIRONMENT)
    assert settings.course_loading.tables == ASU_TABLES
    # The tables are keys of the section now, not more keys kept for the workflow.
    assert settings.course_loading.extra == {}


def test_B9_L3_a_file_without_tables_takes_asus() -> None:
    assert load(ALMA).course_loading.tables == ASU_TABLES
    assert load(REMOTES + "[course_loading]\n").course_loading.tables == ASU_TABLES


def test_B9_L3_a_deployments_own_tables_are_read() -> None:
    tables = load(REMOTES + OWN_TABLES).course_loading.tables
    assert tables.campus_rules == (
        CampusRule(frozenset({"NORTH", "SOUTH"}), "NORTH_LIB", MappingProxyType({"LW": "LAW_LIB"})),
        CampusRule(
            frozenset({"CITY"}), None, MappingProxyType({"MED": "HEALTH", "ENG": "SCIENCE"})
        ),
    )
    assert tables.overrides == (PrefixOverride(PrefixField.COURSE_CODE, ("DEV",), "UNSORTED"),)
    assert tables.terms == (TermRule("10", MappingProxyType({"Fall": "AUTUMN", "FallA": "TERM1"})),)
    assert (tables.campus_fallback, tables.college_fallback, tables.term_fallback) == (
        "MAIN",
        "UNSORTED",
        "NOTERM",
    )
    # Read-only all the way down, as every table of the settings.
    with pytest.raises(TypeError):
        tables.campus_rules[0].colleges["LW"] = "X"  # type: ignore[index]


def test_B9_L3_a_table_left_out_keeps_asus_and_one_written_replaces_it_whole() -> None:
    text = REMOTES + '[course_loading]\n[[course_loading.overrides]]\ncourse_id_prefixes = ["X"]\n'
    text += 'department = "XLIB"\n'
    tables = load(text).course_loading.tables
    assert tables.overrides == (PrefixOverride(PrefixField.COURSE_ID, ("X",), "XLIB"),)
    assert tables.campus_rules == ASU_TABLES.campus_rules
    assert tables.terms == ASU_TABLES.terms
    assert tables.campus_fallback == ASU_TABLES.campus_fallback
    # An empty table is a table: no overrides at all.
    none = load(REMOTES + "[course_loading]\noverrides = []\n").course_loading.tables
    assert none.overrides == ()
    assert none.campus_rules == ASU_TABLES.campus_rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[course_loading.campus]]\ncampuses = ["A"]\ndepartment = "D"\n'
            '[[course_loading.campus]]\ncampuses = ["B"]\ncolleges = { LW = "" }\n'
            '[[course_loading.campus]]\ncampuses = ["C"]\ndepartment = "D"\n',
            'course_loading.campus[1].colleges.LW: must not be empty, got ""',
        ),
        (
            '[[course_loading.campus]]\ncampuses = ["TEMPE"]\ndepartment = "D"\n'
            '[[course_loading.campus]]\ncampuses = ["POLY", "TEMPE"]\ndepartment = "E"\n',
            'course_loading.campus[1].campuses[1]: "TEMPE" is already in '
            "course_loading.campus[0]; a campus belongs to one rule",
        ),
        (
            '[[course_loading.campus]]\ncampuses = ["A", "A"]\ndepartment = "D"\n',
            'course_loading.campus[0].campuses[1]: "A" is listed twice',
        ),
        (
            '[[course_loading.campus]]\ncampuses = ["A", " "]\ndepartment = "D"\n',
            'course_loading.campus[0].campuses[1]: must not be empty, got " "',
        ),
        (
            '[[course_loading.campus]]\ncampuses = []\ndepartment = "D"\n',
            "course_loading.campus[0].campuses: must list at least one of the campus codes",
        ),
        (
            '[[course_loading.campus]]\ncampuses = ["A"]\n',
            "course_loading.campus[0]: gives neither department nor colleges",
        ),
        (
            '[[course_loading.campus]]\ncampuses = ["A"]\ndepartment = 3\n',
            "course_loading.campus[0].department: must be text in quotes, got 3",
        ),
        (
            '[[course_loading.campus]]\ncampuses = ["A"]\ncolleges = { " LW" = "LAW" }\n',
            'course_loading.campus[0].colleges." LW": a college code must not be empty',
        ),
        (
            '[[course_loading.campus]]\ncampuses = ["A"]\ndeparment = "D"\n',
            "course_loading.campus[0].deparment: unknown key (did you mean 'department'?)",
        ),
        (
            '[course_loading.campus]\ncampuses = ["A"]\n',
            "course_loading.campus: must be an array of tables [[course_loading.campus]]",
        ),
        (
            '[[course_loading.overrides]]\ncourse_id_prefixes = ["A"]\n'
            'course_code_prefixes = ["B"]\ndepartment = "D"\n',
            "course_loading.overrides[0]: give course_id_prefixes or course_code_prefixes, "
            "not both",
        ),
        (
            '[[course_loading.overrides]]\ndepartment = "D"\n',
            "course_loading.overrides[0]: give course_id_prefixes or course_code_prefixes",
        ),
        (
            '[[course_loading.overrides]]\ncourse_id_prefixes = ["MUS"]\n',
            "course_loading.overrides[0].department: missing",
        ),
        (
            # An empty prefix would match every course.
            '[[course_loading.overrides]]\ncourse_id_prefixes = [""]\ndepartment = "D"\n',
            'course_loading.overrides[0].course_id_prefixes[0]: must not be empty, got ""',
        ),
        (
            '[course_loading.terms]\n"1" = { g = "SPRING", gA = "" }\n',
            'course_loading.terms.1.gA: must not be empty, got ""',
        ),
        (
            '[course_loading.terms]\n"7" = "AUTUMN"\n',
            "course_loading.terms.7: must be a table of ending = Alma term",
        ),
        (
            '[course_loading.terms]\n"4" = {}\n',
            "course_loading.terms.4: must map at least one ending to an Alma term",
        ),
        (
            '[course_loading.terms]\n" 4" = { r = "SUMMER" }\n',
            'course_loading.terms." 4": a TERM value must not be empty',
        ),
        (
            "[course_loading]\nterms = [1, 4, 7]\n",
            "course_loading.terms: must be a table of TERM value = { ending = Alma term }",
        ),
        (
            '[course_loading]\ncampus_fallback = ""\n',
            'course_loading.campus_fallback: must not be empty, got ""',
        ),
        (
            "[course_loading]\ncollege_fallback = 1\n",
            "course_loading.college_fallback: must be text in quotes, got 1",
        ),
    ],
)
def test_B9_L3_each_problem_names_its_key_path(text: str, expected: str) -> None:
    found = problems(REMOTES + text)
    assert any(line.startswith(expected) for line in found), found


def test_B9_every_table_problem_is_listed_at_once() -> None:
    text = (
        '[course_loading]\nmerge_on = "section"\n'
        '[[course_loading.campus]]\ncampuses = ["A"]\n'
        '[[course_loading.overrides]]\ndepartment = "D"\n'
        '[course_loading.terms]\n"1" = {}\n'
    )
    found = problems(REMOTES + text)
    assert [line.split(":")[0] for line in found] == [
        "course_loading.merge_on",
        "course_loading.campus[0]",
        "course_loading.overrides[0]",
        "course_loading.terms.1",
    ]


root = typer.Typer(name="almabridge", rich_markup_mode=None, pretty_exceptions_enable=False)
root.add_typer(workflows_command.app, name="workflows")


@root.callback()
def _root() -> None:
    """almabridge (test root)."""


def test_B9_workflows_check_passes_on_the_example_and_names_the_tables() -> None:
    result = CliRunner().invoke(root, ["workflows", "check", str(EXAMPLE)], env=SECRET_ENVIRONMENT)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("course-loading:"))
    assert line.endswith("tables: 7 campus rules, 3 overrides, 3 terms (ASU's)"), line


def _tables_line(settings: WorkflowSettings) -> str:
    lines = summarise(settings, datetime(2024, 8, 19, 9, 0, tzinfo=UTC), UTC)
    course_loading = next(line for line in lines if line.startswith("course-loading:"))
    return course_loading.split("tables: ")[1]


def test_B9_the_summary_says_which_tables_are_the_files() -> None:
    assert _tables_line(load(REMOTES + OWN_TABLES)) == (
        "2 campus rules, 1 override, 1 term (from the file)"
    )
    partly = load(REMOTES + '[course_loading]\n[course_loading.terms]\n"1" = { g = "SPRING" }\n')
    assert _tables_line(partly) == (
        "7 campus rules, 3 overrides, 1 term (from the file: terms; the rest ASU's)"
    )
