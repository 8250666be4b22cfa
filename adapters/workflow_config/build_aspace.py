"""``[aspace2alma]``'s rules (rules AS4, B9): the constants, tag lists, patterns and exclusion
list of the record transform (research §a rules 1–17), Princeton's shipped as the example.

```toml
[aspace2alma]
org_code = "PULFA"                          # 003, 035 $a and 949 $d (rules 3, 4, 14)
note_limit = 7999                           # rule 9: a longer 520 $a is cut, "..." included
heading_tags = ["600", "650", "700"]        # rule 10: 3-character MARC tags
excluded_call_numbers = '^(C0140|LAE\\d+)$'  # rule 17: a Python regular expression
```

Every key is optional: one left out is Princeton's
(:data:`~domain.shared.aspace_rules.PRINCETON_RULES`). The keys are the section's own, beside
``barcode_set`` and ``target``, and never among its more keys (``extra``). Every problem names
its key path (``aspace2alma.heading_tags[2]``); a pattern that does not compile says Python's
own reason (``missing ), unterminated subpattern at position 1``).
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BeforeValidator, Field

from adapters.workflow_config.reading import Reading
from adapters.workflow_config.schema import validate
from adapters.workflow_config.schema_values import Table, Text, array, problem, whole
from application.shared.workflow_settings import Aspace2AlmaSettings
from domain.shared.aspace_rules import AspaceRules

__all__ = ["RULE_KEYS", "AspaceRulesConf", "aspace_rules"]

_SECTION: Final = "aspace2alma"
# Princeton's, through the settings' default: the defaults live there once.
_PRINCETON: Final = Aspace2AlmaSettings().rules
_TAG: Final = re.compile(r"[0-9A-Za-z]{3}\Z")


def _tag(value: object) -> str:
    if not isinstance(value, str) or not _TAG.match(value):
        raise problem('must be a MARC tag of 3 letters or digits in quotes, such as "650"')
    return value


def _words(value: object) -> str:
    # Written into a subfield as it is, blanks around it aside; may be empty.
    if not isinstance(value, str):
        raise problem("must be text in quotes")
    return value.strip()


def _pattern(value: object) -> str:
    # Never stripped: a blank in a regular expression is a character to match.
    if not isinstance(value, str):
        raise problem("must be a regular expression in quotes")
    if not value.strip():
        raise problem("must not be empty")
    try:
        re.compile(value)
    except re.error as error:
        raise problem(f"must be a Python regular expression: {error}") from None
    return value


_Tags = Annotated[
    list[Annotated[str, BeforeValidator(_tag)]],
    BeforeValidator(array('MARC tags in quotes, such as ["600", "650"]')),
]
_Words = Annotated[str, BeforeValidator(_words)]
_Pattern = Annotated[str, BeforeValidator(_pattern)]


class AspaceRulesConf(Table):
    """The rule keys of ``[aspace2alma]``; each default is Princeton's."""

    org_code: Text = _PRINCETON.org_code
    cataloging_agency: Text = _PRINCETON.cataloging_agency
    cataloging_language: Text = _PRINCETON.cataloging_language
    description_conventions: Text = _PRINCETON.description_conventions
    # Rule 9 cuts to the limit with "..." included: at least one character of the note is kept.
    note_limit: Annotated[int, BeforeValidator(whole(4))] = _PRINCETON.note_limit
    heading_tags: _Tags = Field(default_factory=lambda: list(_PRINCETON.heading_tags))
    removed_tags: _Tags = Field(default_factory=lambda: list(_PRINCETON.removed_tags))
    finding_aid_link_text: _Words = _PRINCETON.finding_aid_link_text
    finding_aid_label: _Words = _PRINCETON.finding_aid_label
    location_note: _Pattern = _PRINCETON.location_note
    recap_location: _Pattern = _PRINCETON.recap_location
    excluded_call_numbers: _Pattern = _PRINCETON.excluded_call_numbers


RULE_KEYS: Final = tuple(AspaceRulesConf.model_fields)
"""The keys of ``[aspace2alma]`` that are AS4's rules."""


def aspace_rules(reading: Reading) -> AspaceRules | None:
    """The rules the file gives, Princeton's for the keys it leaves out; None with the problems.

    Read from the section's own values, so that they are checked (and every problem listed at
    once) even when another key of the section has a problem.
    """
    section = reading.document.get(_SECTION)
    if section is None:
        return _PRINCETON
    if not isinstance(section, dict):
        return None  # not a table: said where the section is read
    given = {key: section[key] for key in RULE_KEYS if key in section}
    conf = validate(AspaceRulesConf, given, (_SECTION,), reading.problems)
    if conf is None:
        return None
    return AspaceRules(
        org_code=conf.org_code,
        cataloging_agency=conf.cataloging_agency,
        cataloging_language=conf.cataloging_language,
        description_conventions=conf.description_conventions,
        note_limit=conf.note_limit,
        heading_tags=tuple(conf.heading_tags),
        removed_tags=tuple(conf.removed_tags),
        finding_aid_link_text=conf.finding_aid_link_text,
        finding_aid_label=conf.finding_aid_label,
        location_note=conf.location_note,
        recap_location=conf.recap_location,
        excluded_call_numbers=conf.excluded_call_numbers,
    )
