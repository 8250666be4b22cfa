"""Leganto course loading rules (WORKFLOWS.md L1–L8; research §d), pure and stdlib only.

- ``cem``: a CEM feed row and the file read (L1–L3).
- the L3 rule tables as data are ``domain.shared.course_tables`` (the configuration builds
  them), ASU's values ``domain.shared.asu_course_tables``.
- ``departments``: processing department from campus, college and prefix overrides (L3).
- ``terms``: Alma term from TERM and the course code's first segment (L3).
- ``transform``: one CEM row to a course row or a rejection (L3).
- ``merge``: rows to courses on code + section or ASU's code alone, and the loader row (L4).
- ``delete_guard``: a DELETE only for an exact course without reading lists (L5).
- ``loader_row``: the 34-column loader row and file names (L6, L8).
- ``rollover``: copy year, copy-course match and the ROLLOVER row (L8).
"""
