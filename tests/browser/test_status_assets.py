"""Where the staff page's files come from and that the package ships them.

The chart library is installed from the npm registry (package.json, package-lock.json, `npm ci`)
and copied into the Python package by scripts/vendor_chart.sh, so that `pip install .` needs no
node. These tests hold the copy to the npm-installed file byte for byte, and the package-data
globs to every file the page serves.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tomllib
from pathlib import Path

import pytest

from entrypoints.http.status_page import ASSETS, STATIC_FILES

REPOSITORY = Path(__file__).resolve().parents[2]
NODE_CHART = REPOSITORY / "node_modules" / "chart.js"
VENDOR = ASSETS / "static" / "vendor"


def _pinned_version() -> str:
    version: str = json.loads((REPOSITORY / "package.json").read_text())["dependencies"]["chart.js"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin chart.js exactly in package.json"
    return version


def test_the_lock_file_pins_the_version_package_json_names() -> None:
    lock = json.loads((REPOSITORY / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/chart.js"]
    assert locked["version"] == _pinned_version()
    assert locked["integrity"].startswith("sha512-")


def test_the_vendored_chart_is_the_pinned_version() -> None:
    head = (VENDOR / "chart.umd.js").read_text()[:200]
    assert f"Chart.js v{_pinned_version()}" in head
    assert "MIT" in (VENDOR / "chart.js.LICENSE.md").read_text()


def test_the_vendored_chart_is_byte_identical_to_the_npm_installed_one() -> None:
    if not NODE_CHART.is_dir():
        reason = "node_modules/chart.js is missing: run `npm ci` (as .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must compare the vendored copy")
        pytest.skip(reason)
    installed = json.loads((NODE_CHART / "package.json").read_text())["version"]
    assert installed == _pinned_version(), "node_modules is stale: run `npm ci`"
    assert (VENDOR / "chart.umd.js").read_bytes() == (
        NODE_CHART / "dist" / "chart.umd.js"
    ).read_bytes(), "the vendored copy differs: run scripts/vendor_chart.sh"
    assert (VENDOR / "chart.js.LICENSE.md").read_bytes() == (NODE_CHART / "LICENSE.md").read_bytes()


def test_the_package_data_globs_ship_every_file_of_the_page() -> None:
    pyproject = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["entrypoints.http"]
    package = ASSETS.parent
    files = [p.relative_to(package).as_posix() for p in ASSETS.rglob("*") if p.is_file()]
    assert files
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)]
    assert unshipped == []
    for relative, _media_type in STATIC_FILES.values():
        assert (ASSETS / relative).is_file(), relative
