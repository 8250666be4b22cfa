"""Third-party warnings are silenced narrowly: asyncssh's DSA deprecation, nothing else (issue 13).

cryptography 51 deprecates DSA and asyncssh names DSA's key classes at import. The console entry
points ignore exactly that category from exactly `asyncssh.crypto.dsa` and `asyncssh.crypto.misc`
(entrypoints/warning_filters.py), and pytest's `filterwarnings` does the same; every other warning
still errors under `-W error` and in this suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest
from cryptography.utils import CryptographyDeprecationWarning

from entrypoints import warning_filters

REPOSITORY = Path(__file__).resolve().parents[2]


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.pop("PYTHONWARNINGS", None)
    return environment


def _python(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPOSITORY,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console_script() -> str:
    beside = Path(sys.executable).with_name("almabridge")
    found = str(beside) if beside.is_file() else shutil.which("almabridge")
    assert found, "the almabridge console script is not installed beside this Python"
    return found


def test_almabridge_help_prints_no_warning() -> None:
    # entrypoints.cli imports asyncssh (through the SFTP adapter) before Typer prints anything.
    result = subprocess.run(
        [_console_script(), "--help"],
        cwd=REPOSITORY,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "almabridge demo" in result.stdout


def test_python_m_entry_point_prints_no_warning_even_with_warnings_as_errors() -> None:
    result = _python("-W", "error", "-m", "entrypoints.cli", "--help")

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_cli_path_imports_asyncssh_under_warnings_as_errors() -> None:
    result = _python(
        "-W",
        "error",
        "-c",
        "import entrypoints.cli, adapters.transfer.sftp, asyncssh, asyncssh.crypto.dsa",
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_other_deprecation_warnings_still_error_on_the_cli_path() -> None:
    result = _python(
        "-W",
        "error",
        "-c",
        "import entrypoints.cli, warnings; warnings.warn('not ours to hide', DeprecationWarning)",
    )

    assert result.returncode != 0
    assert "DeprecationWarning: not ours to hide" in result.stderr


def test_dsa_used_outside_asyncssh_still_errors_on_the_cli_path() -> None:
    code = (
        "import entrypoints.cli, warnings\n"
        "from cryptography.utils import CryptographyDeprecationWarning as W\n"
        "warnings.warn_explicit('DSA elsewhere', W, 'sftp.py', 1,"
        " module='adapters.transfer.sftp')\n"
    )
    result = _python("-W", "error", "-c", code)

    assert result.returncode != 0
    assert "CryptographyDeprecationWarning: DSA elsewhere" in result.stderr


@pytest.mark.parametrize("module", ["asyncssh.crypto.dsa", "asyncssh.crypto.misc"])
def test_the_suite_ignores_the_dsa_warning_from_asyncssh(module: str) -> None:
    # Under pytest's own filterwarnings (error first): no exception.
    warnings.warn_explicit("DSA is deprecated", CryptographyDeprecationWarning, "x.py", 1, module)


@pytest.mark.parametrize(
    ("category", "module"),
    [
        (CryptographyDeprecationWarning, "asyncssh.crypto.dsa_other"),
        (CryptographyDeprecationWarning, "asyncssh.connection"),
        (CryptographyDeprecationWarning, "adapters.transfer.sftp"),
        (DeprecationWarning, "entrypoints.cli.app"),
        (UserWarning, "asyncssh.crypto.dsa"),
    ],
)
def test_the_suite_still_errors_on_every_other_warning(
    category: type[Warning], module: str
) -> None:
    with pytest.raises(category, match="something else"):
        warnings.warn_explicit("something else", category, "x.py", 1, module)


def test_install_filters_only_that_category_and_those_modules() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warning_filters.install()

        for module in ("asyncssh.crypto.dsa", "asyncssh.crypto.misc"):
            warnings.warn_explicit("DSA", CryptographyDeprecationWarning, "x.py", 1, module)
        with pytest.raises(CryptographyDeprecationWarning):
            warnings.warn_explicit(
                "DSA", CryptographyDeprecationWarning, "x.py", 1, "asyncssh.crypto.dsa2"
            )
        with pytest.raises(DeprecationWarning):
            warnings.warn_explicit("other", DeprecationWarning, "x.py", 1, "asyncssh.crypto.dsa")


def test_a_cryptography_without_the_warning_class_installs_no_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.utils", types.ModuleType("cryptography.utils"))

    assert warning_filters.cryptography_deprecation_warning() is None
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warning_filters.install()
        assert warnings.filters == []
