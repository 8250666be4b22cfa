"""Alma as the use cases see it: one port per role over one shared client, throttle and retries."""
