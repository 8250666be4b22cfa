"""Reliability suite: prints the evidence table (see `tally.py`) at the end of the run."""

from __future__ import annotations

import pytest

from tests.reliability import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not tally.ROWS:
        return
    terminalreporter.section("reliability: faults injected and effects")
    terminalreporter.write_line(tally.render(tally.ROWS))
