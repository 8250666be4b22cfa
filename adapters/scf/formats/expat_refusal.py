"""Stopping an expat parse from inside a handler, keeping where the parser was.

Both Alma formats are read with pyexpat (line numbers, DOCTYPE refusal); a handler that finds
something it will not accept raises `ParseRefused`, which the reader turns into `MalformedFile`.
"""

from __future__ import annotations

from xml.parsers.expat import XMLParserType


class ParseRefused(Exception):
    """Raised inside an expat handler to stop parsing; carries the reason and the position."""

    def __init__(self, reason: str, line: int, column: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column


def refusal(parser: XMLParserType, reason: str) -> ParseRefused:
    """A refusal at the parser's current line and column."""
    return ParseRefused(reason, parser.CurrentLineNumber, parser.CurrentColumnNumber)
