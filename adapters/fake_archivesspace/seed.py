"""Seeding the fake ArchivesSpace: the real reference samples, and generated resources for
benchmarks and rehearsals.

* `seed_reference`: the ArchivesSnake ``GET /repositories`` sample's repositories, repository 3
  (Public Policy Papers, as the container sample resolves it) with resources 1511 and 1512 whose
  MARC exports are ``marc_1511.xml`` and ``marc_1512.xml`` byte for byte; 1511's container is
  ``single_container.json`` verbatim, 1512's one made in its shape.
* `seed_many`: ``resources`` generated resources, each with valid MARCXML (008, 041, a distinct
  099, 245, 500 "Location of resource: <ReCAP code>.", 520, 650, 852, 856) and
  ``containers_per_resource`` ReCAP top containers with distinct barcodes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from adapters.fake_archivesspace.call_log import ResourceKey
from adapters.fake_archivesspace.records import MARC_NS, ResourceSpec, resource_marcxml
from adapters.fake_archivesspace.state import DEFAULT_PASSWORD, DEFAULT_USER, FakeArchivesSpaceState

__all__ = [
    "RECAP_LOCATIONS",
    "REFERENCE_1512_BARCODE",
    "REFERENCE_REPOSITORY",
    "build_state",
    "seed_many",
    "seed_reference",
]

REFERENCE_REPOSITORY = 3
REFERENCE_RESOURCES = (1511, 1512)
REFERENCE_1512_BARCODE = "32101091234567"
"""The made-up barcode of resource 1512's container (the samples hold none for it)."""
REPOSITORIES_SAMPLE = "archivesspace-labs-ArchivesSnake__repositories.json"
CONTAINER_SAMPLE = "single_container.json"
RECAP_LOCATIONS = ("scarcpph", "scarcppf", "scarcpxm")
"""ReCAP location codes (rule 14's ``^(sca)?rcp\\p{L}+``, rule 13's list)."""


def build_state(
    *,
    reference_dir: Path | None = None,
    resources: int = 0,
    user: str = DEFAULT_USER,
    password: str = DEFAULT_PASSWORD,
) -> FakeArchivesSpaceState:
    """A state with one user, the reference samples (when a folder is given) and ``resources``
    generated resources."""
    state = FakeArchivesSpaceState()
    state.add_user(user, password)
    if reference_dir is not None:
        seed_reference(state, reference_dir)
    if resources:
        seed_many(state, resources=resources)
    return state


def seed_reference(state: FakeArchivesSpaceState, reference_dir: Path) -> list[ResourceKey]:
    """The samples of ``reference_dir`` (``shared/reference/aspace2alma``); returns the
    resources added. The container sample is required; the repositories sample is used when
    present."""
    sample = json.loads((reference_dir / CONTAINER_SAMPLE).read_text(encoding="utf-8"))
    repositories = reference_dir / REPOSITORIES_SAMPLE
    if repositories.is_file():
        for record in json.loads(repositories.read_text(encoding="utf-8")):
            repo_id = int(str(record["uri"]).rsplit("/", 1)[1])
            if repo_id not in state.repositories:
                state.add_repository(repo_id, record=record)
    if REFERENCE_REPOSITORY not in state.repositories:
        state.add_repository(REFERENCE_REPOSITORY, record=_sample_repository(sample))
    added: list[ResourceKey] = []
    for resource_id in REFERENCE_RESOURCES:
        marcxml = (reference_dir / f"marc_{resource_id}.xml").read_bytes()
        call_number, title = marc_facts(marcxml)
        state.add_resource(
            REFERENCE_REPOSITORY, resource_id, marcxml, identifier=call_number, title=title
        )
        added.append((REFERENCE_REPOSITORY, resource_id))
    state.add_container_doc(REFERENCE_REPOSITORY, sample)
    state.add_top_container(
        REFERENCE_REPOSITORY, 1512, barcode=REFERENCE_1512_BARCODE, indicator="1"
    )
    return added


def _sample_repository(container_doc: dict[str, Any]) -> dict[str, Any]:
    """Repository 3 as the container sample resolves it, listed the way ``GET /repositories``
    lists one (agents by reference only)."""
    record = json.loads(container_doc["json"])
    repository: dict[str, Any] = dict(record["repository"]["_resolved"])
    agent = repository.get("agent_representation")
    if isinstance(agent, dict):
        repository["agent_representation"] = {"ref": agent.get("ref", "")}
    return repository


def seed_many(
    state: FakeArchivesSpaceState,
    resources: int,
    containers_per_resource: int = 3,
    *,
    repo_id: int = REFERENCE_REPOSITORY,
    first_resource_id: int = 10_001,
) -> list[ResourceKey]:
    """``resources`` generated resources of ``repo_id`` (made if missing), ids from
    ``first_resource_id``; returns them. The same arguments always give the same records."""
    if resources < 0 or containers_per_resource < 0:
        raise ValueError("resources and containers_per_resource cannot be negative")
    if repo_id not in state.repositories:
        state.add_repository(repo_id, "publicpolicy", "Public Policy Papers")
    added: list[ResourceKey] = []
    for n in range(resources):
        resource_id = first_resource_id + n
        location = RECAP_LOCATIONS[n % len(RECAP_LOCATIONS)]
        spec = ResourceSpec(
            call_number=f"B{repo_id:02d}.{resource_id:06d}",
            title=f"Benchmark Papers {resource_id}",
            date1=1900 + n % 100,
            date2=1910 + n % 100,
            location_code=location,
        )
        state.add_resource(
            repo_id,
            resource_id,
            resource_marcxml(spec),
            identifier=spec.call_number,
            title=spec.title,
        )
        for j in range(containers_per_resource):
            # Barcodes from the container id: distinct across everything the state holds.
            container_id = state.next_container_id()
            state.add_top_container(
                repo_id,
                resource_id,
                container_id=container_id,
                barcode=f"3210{container_id:010d}",
                type="box" if j % 2 == 0 else "volume",
                indicator=str(j + 1),
                location_code=location,
            )
        added.append((repo_id, resource_id))
    return added


def marc_facts(marcxml: bytes) -> tuple[str, str]:
    """(099 $a, 245 $a) of a MARC export, empty when absent."""
    root = ET.fromstring(marcxml)  # noqa: S314 - the project's own reference files
    ns = {"m": MARC_NS}

    def first(tag: str) -> str:
        found = root.find(f".//m:datafield[@tag='{tag}']/m:subfield[@code='a']", ns)
        return (found.text or "").strip() if found is not None else ""

    return first("099"), first("245")
