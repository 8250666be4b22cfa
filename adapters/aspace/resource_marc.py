"""`ResourceMarc` over the MARCXML reader: the port's typed error instead of the adapter's, so
the use case never catches an adapter's exception (AS4, AS5)."""

from __future__ import annotations

from adapters.aspace.resource_marcxml import ResourceMarcError, read_resource_marcxml
from application.aspace.ports import UnreadableResource
from domain.shared.marc import MarcRecord

__all__ = ["AspaceResourceMarc"]


class AspaceResourceMarc:
    """Reads the one record of a resource's MARCXML collection."""

    def parse(self, data: bytes, resource: str) -> MarcRecord:
        try:
            return read_resource_marcxml(data, resource=resource)
        except ResourceMarcError as error:
            raise UnreadableResource(str(error)) from None
