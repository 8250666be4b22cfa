"""A MARC record as the workflows see it: leader and fields in the order they were read.

Standard library only; reading and writing ISO 2709 or MARCXML is `adapters.marc`'s job. Tags are
three-character strings and are never turned into numbers: the original WEST scripts used
``int(tag)`` and died on the first non-numeric tag (rule H3). Ordering compares the strings, which
for numeric tags is the numeric order and puts letters after digits.

`SourceRecord` is one entry of an MMS id source (a MARC export or a plain list, rule H1): the id,
or the problem that kept this record from giving one, so a use case records it failed and goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.shared.errors import DomainError

LEADER_LENGTH = 24
TAG_LENGTH = 3


class InvalidMarc(DomainError):
    """A field or record was built from parts MARC cannot hold (a 4-character tag, a 23-character
    leader…); the message names the part."""


@dataclass(frozen=True)
class ControlField:
    """A control field (``001``–``009``): a tag and an unstructured value."""

    tag: str
    value: str

    def __post_init__(self) -> None:
        _check_tag(self.tag)


@dataclass(frozen=True)
class Subfield:
    """One ``$code value`` of a data field."""

    code: str
    value: str

    def __post_init__(self) -> None:
        if len(self.code) != 1:
            raise InvalidMarc(f"subfield code {self.code!r} is not one character")


@dataclass(frozen=True)
class DataField:
    """A data field: tag, two indicators and its subfields in order."""

    tag: str
    indicator1: str
    indicator2: str
    subfields: tuple[Subfield, ...] = ()

    def __post_init__(self) -> None:
        _check_tag(self.tag)
        for indicator in (self.indicator1, self.indicator2):
            if len(indicator) != 1:
                raise InvalidMarc(
                    f"field {self.tag} has indicator {indicator!r}, not one character"
                )

    def values(self, code: str) -> tuple[str, ...]:
        """The values of every subfield ``code``, in order."""
        return tuple(s.value for s in self.subfields if s.code == code)


Field = ControlField | DataField


@dataclass(frozen=True)
class MarcRecord:
    """A leader and the fields in the order they were read (or set by a rule)."""

    leader: str
    fields: tuple[Field, ...] = ()

    def __post_init__(self) -> None:
        if len(self.leader) != LEADER_LENGTH:
            raise InvalidMarc(
                f"leader {self.leader!r} has {len(self.leader)} characters, not {LEADER_LENGTH}"
            )

    @property
    def control_fields(self) -> tuple[ControlField, ...]:
        return tuple(f for f in self.fields if isinstance(f, ControlField))

    @property
    def data_fields(self) -> tuple[DataField, ...]:
        return tuple(f for f in self.fields if isinstance(f, DataField))

    def control(self, tag: str) -> str | None:
        """The value of the first control field ``tag``; None when there is none."""
        return next((f.value for f in self.control_fields if f.tag == tag), None)

    def has_data_field(self, tags: Iterable[str]) -> bool:
        """Whether a data field carries one of ``tags`` (a lone string is one tag, not three)."""
        wanted = frozenset((tags,) if isinstance(tags, str) else tags)
        return any(f.tag in wanted for f in self.data_fields)

    def with_control_field(self, tag: str, value: str) -> MarcRecord:
        """This record with control field ``tag`` set to ``value``.

        An existing field is replaced where it stands and any second one of that tag dropped, so
        the tag is never duplicated; a missing one is inserted before the first control field with
        a higher tag (after the last control field otherwise). Data fields are left as they are.
        """
        new = ControlField(tag, value)
        fields: list[Field] = []
        placed = False
        for f in self.fields:
            if isinstance(f, ControlField) and f.tag == tag:
                if not placed:
                    fields.append(new)
                    placed = True
                continue
            fields.append(f)
        if not placed:
            fields.insert(self._insertion_point(fields, tag), new)
        return MarcRecord(self.leader, tuple(fields))

    def with_control_fields_in_tag_order(self) -> MarcRecord:
        """Control fields first, sorted by tag (two of one tag keep their order), then the data
        fields in their own order."""
        ordered = sorted(self.control_fields, key=lambda f: f.tag)
        return MarcRecord(self.leader, (*ordered, *self.data_fields))

    def with_fields(self, fields: Iterable[Field]) -> MarcRecord:
        """This leader with other fields."""
        return MarcRecord(self.leader, tuple(fields))

    @staticmethod
    def _insertion_point(fields: list[Field], tag: str) -> int:
        last_control = -1
        for index, f in enumerate(fields):
            if isinstance(f, ControlField):
                if f.tag > tag:
                    return index
                last_control = index
        return last_control + 1


@dataclass(frozen=True)
class SourceRecord:
    """One record of an MMS id source (rule H1), in input order.

    ``position`` counts records from 1 in a MARC file and lines from 1 in a plain list. Exactly one
    of ``mms_id`` (stripped, never empty) and ``problem`` (a sentence naming the record) is set.
    """

    position: int
    mms_id: str | None
    problem: str | None = None

    def __post_init__(self) -> None:
        if (self.mms_id is None) == (self.problem is None):
            raise InvalidMarc("a source record has either an MMS id or a problem")


def _check_tag(tag: str) -> None:
    if len(tag) != TAG_LENGTH:
        raise InvalidMarc(f"tag {tag!r} is not {TAG_LENGTH} characters")
