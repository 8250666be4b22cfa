"""The patron layer of the state: users (incl. linked accounts) and courses."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from adapters.fake_alma import errors, templates
from adapters.fake_alma.model import (
    Course,
    User,
)
from adapters.fake_alma.state_catalog import CatalogState


class PatronState(CatalogState):
    """Users, the linked copies of other institutions' users, and courses."""

    def add_user(self, institution: str, data: Mapping[str, Any]) -> User:
        """Add a user from (partial) Alma user JSON; missing keys take Alma's empty values."""
        inst = self.institution(institution)
        full = templates.blank_user()
        full.update(copy.deepcopy(dict(data)))
        primary = str(full.get("primary_id") or "")
        if not primary:
            raise ValueError("a user needs a primary_id")
        if primary in inst.users:
            raise ValueError(f"user {primary} is defined twice in {institution}")
        if not full.get("full_name"):
            full["full_name"] = " ".join(
                p for p in (full.get("first_name"), full.get("last_name")) if p
            )
        user = User(full)
        inst.users[primary] = user
        return user

    def user(self, institution: str, user_id: str, *, id_type: str = "all_unique") -> User:
        """``GET /users/{id}?user_id_type=``: all_unique, primary_id, linking_id or an
        identifier type such as BARCODE."""
        inst = self.institution(institution)
        if id_type == "linking_id":
            for user in inst.users.values():
                if user.data.get("linking_id") == user_id:
                    return user
            raise errors.linking_id_not_found(user_id)
        if id_type in ("all_unique", "primary_id"):
            direct = inst.users.get(user_id)
            if direct is not None:
                return direct
            if id_type == "all_unique":
                for user in inst.users.values():
                    if user_id in user.identifiers():
                        return user
            raise errors.user_not_found(user_id)
        for user in inst.users.values():
            for ident in user.data.get("user_identifier") or []:
                kind = (ident.get("id_type") or {}).get("value")
                if kind == id_type and ident.get("value") == user_id:
                    return user
        raise errors.user_not_found(user_id)

    def linked_user(self, institution: str, link_id: str, source_institution: str) -> User:
        """``GET /users/{link}?source_institution_code=``: the copy of a source user."""
        for user in self.institution(institution).users.values():
            if (
                user.data.get("source_institution_code") == source_institution
                and user.data.get("source_link_id") == link_id
            ):
                return user
        raise errors.linked_user_not_found(link_id, source_institution)

    def users_of(
        self,
        institution: str,
        *,
        source_institution_code: str | None = None,
        source_user_id: str | None = None,
    ) -> list[User]:
        """``GET /users``: all users, or the linked copies of one source user."""
        users = list(self.institution(institution).users.values())
        if source_institution_code is None:
            return users
        found: list[User] = []
        source = self.institutions.get(source_institution_code)
        link_id: str | None = None
        if source is not None and source_user_id is not None:
            try:
                link_id = self.user(source_institution_code, source_user_id).data.get("linking_id")
            except errors.AlmaError:
                link_id = None
        for user in users:
            if user.data.get("source_institution_code") != source_institution_code:
                continue
            if source_user_id is None or (link_id and user.data.get("source_link_id") == link_id):
                found.append(user)
        return found

    def _copy_from_source(self, copy_to: dict[str, Any], source: User) -> None:
        keep = {
            key: copy_to.get(key)
            for key in ("primary_id", "source_institution_code", "source_link_id")
        }
        copy_to.clear()
        copy_to.update(copy.deepcopy(source.data))
        copy_to.pop("linking_id", None)
        copy_to.update(keep)
        copy_to["account_type"] = templates.code_desc("EXTERNAL", "External")

    def create_linked_user(
        self, institution: str, source_institution_code: str, source_user_id: str
    ) -> User:
        """``POST /users?source_institution_code=&source_user_id=``: a linked copy of a user
        of another institution; the source gets a ``linking_id`` and the copy points at it
        with ``source_link_id`` (as the SCF bridge's lookups expect)."""
        inst = self.institution(institution)
        if source_institution_code not in self.institutions:
            raise errors.source_user_not_found()
        try:
            source = self.user(source_institution_code, source_user_id)
        except errors.AlmaError:
            raise errors.source_user_not_found() from None
        if not source.data.get("linking_id"):
            source.data["linking_id"] = self.institutions[source_institution_code].ids.linking_id()
        link_id = str(source.data["linking_id"])
        try:
            self.linked_user(institution, link_id, source_institution_code)
        except errors.AlmaError:
            pass
        else:
            raise errors.linked_account_exists()
        primary = source.primary_id
        if primary in inst.users:
            primary = f"{primary}-{source_institution_code}"
        data: dict[str, Any] = {
            "primary_id": primary,
            "source_institution_code": source_institution_code,
            "source_link_id": link_id,
        }
        self._copy_from_source(data, source)
        user = User(data)
        inst.users[primary] = user
        return user

    def refresh_user(self, institution: str, user_id: str) -> User:
        """``POST /users/{id}?op=refresh``: copy the source user's data again."""
        user = self.user(institution, user_id)
        source_code = user.data.get("source_institution_code")
        link_id = user.data.get("source_link_id")
        if not source_code or not link_id or source_code not in self.institutions:
            raise errors.refresh_failed(user_id)
        try:
            source = self.user(str(source_code), str(link_id), id_type="linking_id")
        except errors.AlmaError:
            raise errors.refresh_failed(user_id) from None
        self._copy_from_source(user.data, source)
        return user

    def add_course(self, institution: str, data: Mapping[str, Any]) -> Course:
        """Add a course from (partial) Alma course JSON."""
        inst = self.institution(institution)
        full = templates.blank_course()
        full.update(copy.deepcopy(dict(data)))
        if not full.get("id"):
            full["id"] = inst.ids.course_id()
        course = Course(full)
        inst.courses[course.course_id] = course
        return course

    def course(self, institution: str, course_id: str) -> Course:
        """A course, or Alma's error."""
        course = self.institution(institution).courses.get(course_id)
        if course is None:
            raise errors.course_not_found(course_id)
        return course

    def search_courses(self, institution: str, q: str | None) -> list[Course]:
        """``GET /courses?q=field~value[ AND field~value]`` (contains, case-insensitive;
        fields code, name, section, id, searchable_ids, instructors and ``all``)."""
        courses = list(self.institution(institution).courses.values())
        if not q:
            return courses
        for clause in q.split(" AND "):
            field, sep, wanted = clause.partition("~")
            if not sep:
                raise errors.invalid_parameter("q", q)
            needle = wanted.strip().lower()
            courses = [c for c in courses if _course_matches(c, field.strip(), needle)]
        return courses


def _course_matches(course: Course, field: str, needle: str) -> bool:
    data = course.data
    if field == "all":
        haystack = " ".join(
            str(data.get(k) or "") for k in ("code", "name", "section", "id", "year")
        )
    elif field == "instructors":
        haystack = " ".join(
            f"{i.get('first_name', '')} {i.get('last_name', '')} {i.get('primary_id', '')}"
            for i in data.get("instructor") or []
            if isinstance(i, Mapping)
        )
    elif field == "searchable_ids":
        haystack = " ".join(str(s) for s in data.get("searchable_id") or [])
    elif field in ("code", "name", "section", "id", "year"):
        haystack = str(data.get(field) or "")
    else:
        raise errors.invalid_parameter("q", field)
    return needle in haystack.lower()
