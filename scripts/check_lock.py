"""Check, without a network, that requirements/*.txt agree with pyproject.toml.

For each lock (runtime: the project's dependencies; test: those and the `test` extra; dev: those
and the `dev` extra, which includes `test`): every requirement is pinned with `==` at a version
inside its range, with at least one sha256 hash; a package has the same version in every lock;
and `[build-system] requires` names exact versions. Exit 1 with one line per problem.

Run by `scripts/lock.sh --check` (CI), which then also re-resolves the locks with uv and compares
the files, so that changed transitive dependencies are caught too. Needs `packaging`.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"runtime": (), "test": ("test",), "dev": ("dev",)}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}")


def direct_requirements(project: dict[str, Any], extras: tuple[str, ...]) -> list[Requirement]:
    """The project's dependencies plus those of `extras`, self-references (`name[x]`) expanded."""
    name = canonicalize_name(project["name"])
    optional = project.get("optional-dependencies", {})
    wanted = [Requirement(line) for line in project.get("dependencies", [])]
    pending, seen = list(extras), set[str]()
    while pending:
        extra = pending.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in optional.get(extra, []):
            requirement = Requirement(line)
            if canonicalize_name(requirement.name) == name:
                pending.extend(requirement.extras)
            else:
                wanted.append(requirement)
    return wanted


def read_lock(path: Path) -> tuple[dict[str, str], list[str]]:
    """The pins of a lock file (canonical name -> version) and the pins that carry no hash."""
    pins: dict[str, str] = {}
    unhashed: list[str] = []
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        pin = PIN.match(line)
        if pin:
            if current is not None:
                unhashed.append(current)
            current = canonicalize_name(pin["name"])
            pins[current] = pin["version"]
        elif current is not None and HASH.match(line):
            current = None
    if current is not None:
        unhashed.append(current)
    return pins, unhashed


def problems() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    found: list[str] = []
    for line in pyproject.get("build-system", {}).get("requires", []):
        specifiers = list(Requirement(line).specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            found.append(f"pyproject.toml [build-system] requires {line!r}: pin it with ==")
    versions: dict[str, dict[str, str]] = {}
    for lock, extras in LOCKS.items():
        path = ROOT / "requirements" / f"{lock}.txt"
        if not path.is_file():
            found.append(f"{path.relative_to(ROOT)} is missing: run scripts/lock.sh")
            continue
        pins, unhashed = read_lock(path)
        found += [f"{path.relative_to(ROOT)}: {name} has no hash" for name in unhashed]
        for name, version in pins.items():
            versions.setdefault(name, {})[lock] = version
        for requirement in direct_requirements(project, extras):
            name = canonicalize_name(requirement.name)
            if name not in pins:
                found.append(f"{path.relative_to(ROOT)}: {requirement} is not locked")
            elif not requirement.specifier.contains(pins[name], prereleases=True):
                found.append(
                    f"{path.relative_to(ROOT)}: {name}=={pins[name]} is outside {requirement}"
                )
    for name, by_lock in sorted(versions.items()):
        if len(set(by_lock.values())) > 1:
            pinned = ", ".join(f"{lock} {version}" for lock, version in by_lock.items())
            found.append(f"{name} differs between the locks: {pinned}")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print("the locks disagree with pyproject.toml: run scripts/lock.sh --keep", file=sys.stderr)
        return 1
    print(f"every requirement of pyproject.toml is locked: {', '.join(LOCKS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
