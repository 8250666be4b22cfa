"""Failure reports for SCF staff: the Java-compatible daily CSV files, and an in-memory twin."""
