"""The staff status page in a real headless Chromium, and its shared seed and HTML helpers."""
