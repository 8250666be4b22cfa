"""Seed files shipped with the fake Alma (a package so that the JSON files get installed)."""
