"""`AlmaDirectory` over HTTP: one gateway per configured institution, one client for all."""

from __future__ import annotations

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.gateway import HttpAlmaGateway
from application.alma import UnknownInstitution
from application.settings import Settings


class HttpAlmaDirectory:
    """Gateways for the institutions of the current settings, sharing one pooled client."""

    def __init__(self, settings: Settings, client: AlmaHttpClient) -> None:
        self._settings = settings
        self._client = client
        self._gateways: dict[str, HttpAlmaGateway] = {}

    def gateway(self, institution: str) -> HttpAlmaGateway:
        key = institution.casefold()
        if key not in self._gateways:
            api_key = self._settings.api_key(institution)
            if not api_key:
                raise UnknownInstitution(institution)
            self._gateways[key] = HttpAlmaGateway(self._client, institution, api_key)
        return self._gateways[key]
