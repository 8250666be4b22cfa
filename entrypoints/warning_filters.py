"""Third-party warnings the command line and the service silence, each by category and module.

cryptography 51 deprecates DSA; asyncssh still names DSA's key classes when it is imported
(`asyncssh.crypto.dsa`, `asyncssh.crypto.misc`), which printed about ten lines of
`CryptographyDeprecationWarning` before any `almabridge` output. Only that category from those
modules is ignored: every other warning, DSA used from any other module included, is shown or
raised as the interpreter's own settings say. `entrypoints/__init__.py` installs the filters, so
they are in place before any entry point (`almabridge`, `python -m entrypoints.cli`, a uvicorn
child importing `entrypoints.http`) imports asyncssh.
"""

from __future__ import annotations

import warnings

# Regular expressions matched against the warning's module, as `warnings.filterwarnings` does;
# `\Z` keeps `asyncssh.crypto.dsa` from matching `asyncssh.crypto.dsa_whatever`.
ASYNCSSH_DSA_MODULES = r"asyncssh\.crypto\.(dsa|misc)\Z"


def cryptography_deprecation_warning() -> type[Warning] | None:
    """cryptography's own deprecation category, or None when this cryptography has none."""
    try:
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # no cryptography, or one that renamed or dropped the class
        return None
    return CryptographyDeprecationWarning


def install() -> None:
    """Ignore asyncssh's DSA deprecation warnings at import; leave every other warning alone."""
    category = cryptography_deprecation_warning()
    if category is None:
        return
    warnings.filterwarnings("ignore", category=category, module=ASYNCSSH_DSA_MODULES)
