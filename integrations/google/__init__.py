"""Adapters over google-api-python-client: Drive v3, Docs v1, Gmail v1, Calendar v3.

`auth` makes credentials and per-thread clients, `execute` runs every call (retries and
typed errors from `errors`), `drive` and `mail` implement the ports, `doctor` checks a setup.
"""
