"""The Alma term of a CEM row (rule L3): TERM picks the table, the course code's first segment
picks the ending."""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.course_tables import CourseTables, TermRule


@dataclass(frozen=True)
class AlmaTerm:
    """An Alma term code; ``fallback`` is the sentence to record when the term table did not know
    the TERM or the course code's ending and its fallback decided (L3)."""

    code: str
    fallback: str | None = None


def alma_term(course_code: str, term: str, tables: CourseTables) -> AlmaTerm:
    """Rule L3: the TermRule of ``term``, and of its endings the longest that the first ``-``
    segment of ``course_code`` (``2019Fall``, ``2019FallA``…) ends with. An unknown TERM or an
    ending the rule lacks takes the tables' term fallback, with the sentence to record."""
    segment = course_code.split("-", 1)[0]
    rule = _term_rule(term, tables)
    if rule is None:
        return _fallback(f"unknown TERM {term} for {course_code}", tables)
    # ASU's endings never overlap, but a deployment's table may hold both "A" and "lA": the
    # more specific ending must decide whatever the table's order.
    matching = [ending for ending in rule.endings if ending and segment.endswith(ending)]
    if not matching:
        return _fallback(f"no term of TERM {term} for {segment} in {course_code}", tables)
    return AlmaTerm(rule.endings[max(matching, key=len)])


def _term_rule(term: str, tables: CourseTables) -> TermRule | None:
    return next((rule for rule in tables.terms if rule.term == term), None)


def _fallback(what: str, tables: CourseTables) -> AlmaTerm:
    code = tables.term_fallback
    given = f"Alma term {code}" if code else "Alma term left empty"
    return AlmaTerm(code, f"{what}: {given} (term fallback)")
