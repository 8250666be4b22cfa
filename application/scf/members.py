"""A member institution's code as the configuration spells it."""

from __future__ import annotations

from domain.scf.institutions import Consortium


def member_code(consortium: Consortium, institution: str) -> str:
    """The configured spelling of a member institution's code (any case given); ValueError
    naming it when it is not a configured member (the SCF is not one)."""
    configured = consortium.institution(institution)
    if configured is None or consortium.is_scf(configured.code):
        raise ValueError(f"{institution} is not a configured member institution")
    return configured.code
