"""Fixtures of the integration tests: the AML API on a live server (tests/integration/api_server.py)."""

from __future__ import annotations

from api_server import api_database, api_server, api_users, ml_client, s3_client

__all__ = ["api_database", "api_server", "api_users", "ml_client", "s3_client"]
