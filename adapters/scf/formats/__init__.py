"""File formats Alma exchanges with the bridge: publishing MARCXML, remote-storage request XML."""
