"""``[aspace2alma]``'s rules in the workflows file (rules AS4, B9): Princeton's shipped as the
example, a deployment's own read, every problem naming its key path; and the ArchivesSpace
concurrency (AS2)."""

from __future__ import annotations

import re
from dataclasses import fields, replace
from datetime import UTC, datetime

import pytest
import typer
from typer.testing import CliRunner

from adapters.workflow_config import load_workflow_settings
from adapters.workflow_config.build_aspace import RULE_KEYS
from adapters.workflow_config.schema import Aspace2AlmaConf
from adapters.workflow_config.summary import summarise
from application.shared.workflow_settings import WorkflowSettings
from domain.shared.aspace_rules import PRINCETON_RULES, AspaceRules
from entrypoints.cli import workflows_command
from tests.integration.workflow_config.support import (
    ALMA,
    ASPACE_PASSWORD,
    EXAMPLE,
    SECRET_ENVIRONMENT,
    load,
    problems,
)

# The remote the aspace2alma default names, and the password, so that only the rules can be wrong.
DROP = """
[remotes.drop]
url = "file:///srv/drop"
"""
ENVIRON = {"ALMABRIDGE_ARCHIVESSPACE_PASSWORD": ASPACE_PASSWORD}

OWN_RULES = r"""
[aspace2alma]
barcode_set = "9912"
org_code = "YUL"
cataloging_agency = "CtY"
cataloging_language = "fre"
description_conventions = "rda"
note_limit = 4000
heading_tags = ["600", "650"]
removed_tags = ["500", "583"]
finding_aid_link_text = "Finding aid"
finding_aid_label = "Yale Archives at Yale"
location_note = 'Location: (mss|arc)'
recap_location = '^lsf\w+'
excluded_call_numbers = '^(MS\d+|RU 1)$'
mystery = "kept"
[aspace2alma.archivesspace]
concurrency = 16
"""


def _aspace(text: str) -> WorkflowSettings:
    return load(DROP + text, ENVIRON)


def test_AS4_B9_the_example_ships_princetons_rules() -> None:
    settings = load_workflow_settings(EXAMPLE, SECRET_ENVIRONMENT)
    aspace = settings.aspace2alma
    assert aspace.rules == PRINCETON_RULES
    assert aspace.archivesspace.concurrency == 4
    # The rules are keys of the section now, not more keys kept for the workflow.
    assert aspace.extra == {}


def test_AS4_B9_a_file_without_rules_takes_princetons() -> None:
    assert load(ALMA).aspace2alma.rules == PRINCETON_RULES
    settings = _aspace("[aspace2alma]\n")
    assert settings.aspace2alma.rules == PRINCETON_RULES
    assert settings.aspace2alma.archivesspace.concurrency == 4


def test_AS4_B9_a_deployments_own_rules_are_read() -> None:
    aspace = _aspace(OWN_RULES).aspace2alma
    assert aspace.rules == AspaceRules(
        org_code="YUL",
        cataloging_agency="CtY",
        cataloging_language="fre",
        description_conventions="rda",
        note_limit=4000,
        heading_tags=("600", "650"),
        removed_tags=("500", "583"),
        finding_aid_link_text="Finding aid",
        finding_aid_label="Yale Archives at Yale",
        location_note="Location: (mss|arc)",
        recap_location=r"^lsf\w+",
        excluded_call_numbers=r"^(MS\d+|RU 1)$",
    )
    assert aspace.archivesspace.concurrency == 16
    assert aspace.barcode_set == "9912"
    # Only the keys that are not rules are more keys.
    assert dict(aspace.extra) == {"mystery": "kept"}


def test_AS4_B9_a_key_left_out_keeps_princetons() -> None:
    text = '[aspace2alma]\nnote_limit = 500\nheading_tags = []\norg_code = " PULFA "\n'
    rules = _aspace(text).aspace2alma.rules
    assert rules == replace(PRINCETON_RULES, note_limit=500, heading_tags=())


def test_AS4_B9_every_rule_is_a_key_of_the_section() -> None:
    # The model, the section and the domain's rules name the same keys.
    assert tuple(item.name for item in fields(AspaceRules)) == RULE_KEYS
    assert set(RULE_KEYS) <= set(Aspace2AlmaConf.model_fields)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[aspace2alma]\nexcluded_call_numbers = '^(C0140|C1771'\n",
            "aspace2alma.excluded_call_numbers: must be a Python regular expression: missing ), "
            'unterminated subpattern at position 1, got "^(C0140|C1771"',
        ),
        (
            "[aspace2alma]\nlocation_note = 'Location of resource: [sca'\n",
            "aspace2alma.location_note: must be a Python regular expression: unterminated "
            "character set at position 22",
        ),
        (
            "[aspace2alma]\nrecap_location = '^(sca)?rcp\\p{L}+'\n",
            "aspace2alma.recap_location: must be a Python regular expression: bad escape \\p",
        ),
        (
            "[aspace2alma]\nrecap_location = ''\n",
            'aspace2alma.recap_location: must not be empty, got ""',
        ),
        (
            "[aspace2alma]\nexcluded_call_numbers = ['^C0140$']\n",
            "aspace2alma.excluded_call_numbers: must be a regular expression in quotes, got an "
            "array",
        ),
        (
            '[aspace2alma]\norg_code = ""\n',
            'aspace2alma.org_code: must not be empty, got ""',
        ),
        (
            '[aspace2alma]\ncataloging_agency = "  "\n',
            'aspace2alma.cataloging_agency: must not be empty, got "  "',
        ),
        (
            "[aspace2alma]\ncataloging_language = 1\n",
            "aspace2alma.cataloging_language: must be text in quotes, got 1",
        ),
        (
            '[aspace2alma]\ndescription_conventions = ""\n',
            'aspace2alma.description_conventions: must not be empty, got ""',
        ),
        (
            "[aspace2alma]\nnote_limit = 7999.5\n",
            "aspace2alma.note_limit: must be a whole number ≥ 4, got 7999.5",
        ),
        (
            '[aspace2alma]\nnote_limit = "7999"\n',
            'aspace2alma.note_limit: must be a whole number ≥ 4, got "7999"',
        ),
        (
            "[aspace2alma]\nnote_limit = 3\n",
            "aspace2alma.note_limit: must be a whole number ≥ 4, got 3",
        ),
        (
            '[aspace2alma]\nheading_tags = ["600", "6500"]\n',
            "aspace2alma.heading_tags[1]: must be a MARC tag of 3 letters or digits in quotes, "
            'such as "650", got "6500"',
        ),
        (
            "[aspace2alma]\nremoved_tags = [500]\n",
            "aspace2alma.removed_tags[0]: must be a MARC tag of 3 letters or digits",
        ),
        (
            '[aspace2alma]\nremoved_tags = "500"\n',
            'aspace2alma.removed_tags: must be an array of MARC tags in quotes, such as ["600", '
            '"650"], got "500"',
        ),
        (
            "[aspace2alma]\nfinding_aid_label = false\n",
            "aspace2alma.finding_aid_label: must be text in quotes, got false",
        ),
        (
            "[aspace2alma.archivesspace]\nconcurrency = 0\n",
            "aspace2alma.archivesspace.concurrency: must be a whole number ≥ 1, got 0",
        ),
        (
            "[aspace2alma.archivesspace]\nconcurrency = 17\n",
            "aspace2alma.archivesspace.concurrency: must be a whole number from 1 to 16 (calls "
            "in flight to ArchivesSpace at once), got 17",
        ),
    ],
)
def test_AS4_B9_each_problem_names_its_key_path(text: str, expected: str) -> None:
    found = problems(DROP + text, ENVIRON)
    assert any(line.startswith(expected) for line in found), found


def test_B9_every_rule_problem_is_listed_at_once() -> None:
    text = (
        '[aspace2alma]\ntarget = "nowhere/.."\norg_code = ""\nnote_limit = 2\n'
        "heading_tags = [\"60\"]\nexcluded_call_numbers = '('\n"
        "[aspace2alma.archivesspace]\nconcurrency = 0\n"
    )
    found = problems(DROP + text, ENVIRON)
    assert [line.split(":")[0] for line in found] == [
        "aspace2alma.target",
        "aspace2alma.archivesspace.concurrency",
        "aspace2alma.org_code",
        "aspace2alma.note_limit",
        "aspace2alma.heading_tags[0]",
        "aspace2alma.excluded_call_numbers",
    ]


root = typer.Typer(name="almabridge", rich_markup_mode=None, pretty_exceptions_enable=False)
root.add_typer(workflows_command.app, name="workflows")


@root.callback()
def _root() -> None:
    """almabridge (test root)."""


def test_B9_workflows_check_passes_on_the_example_and_names_the_rules() -> None:
    result = CliRunner().invoke(root, ["workflows", "check", str(EXAMPLE)], env=SECRET_ENVIRONMENT)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("aspace2alma:"))
    assert "at most 4 calls at once" in line, line
    assert line.endswith("rules: Princeton's"), line


def _rules_line(settings: WorkflowSettings) -> str:
    lines = summarise(settings, datetime(2024, 8, 19, 9, 0, tzinfo=UTC), UTC)
    aspace = next(line for line in lines if line.startswith("aspace2alma"))
    return aspace.split("rules: ")[1]


def test_B9_the_summary_says_which_rules_are_the_files() -> None:
    assert _rules_line(load(ALMA)) == "Princeton's"
    partly = _aspace('[aspace2alma]\nnote_limit = 500\norg_code = "PULFA"\n')
    assert _rules_line(partly) == "from the file: note_limit; the rest Princeton's"
    own = _aspace(OWN_RULES)
    assert _rules_line(own) == "all from the file; more keys: mystery"
    lines = summarise(own, datetime(2024, 8, 19, 9, 0, tzinfo=UTC), UTC)
    assert any(
        re.match(r"aspace2alma: .*\(password set, at most 16 calls at once\)", line)
        for line in lines
    ), lines
