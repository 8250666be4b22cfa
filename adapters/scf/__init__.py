"""Adapters only the SCF bridge uses: conf.json, publishing and request files, CSV reports."""
