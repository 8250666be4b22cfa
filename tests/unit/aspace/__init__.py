"""Unit tests of the aspace2alma record transform and its MARCXML in and out (AS4–AS6)."""
