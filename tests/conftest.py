"""Shared fixtures: session-wide MariaDB and PostgreSQL servers (see ``dbservers.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

# ``dbservers`` sits beside this file; make it importable whether or not tests/ is a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dbservers import DBServer, mariadb_server, postgres_server

__all__ = ["DBServer", "mariadb_server", "postgres_server"]
