"""Shared fixtures. The suite runs against whatever DATABASE_URL names (SQLite by default;
``make test`` runs it on SQLite and again on PostgreSQL)."""
import pytest

from etl.schema import init_emr


@pytest.fixture
def emr(db):
    """The raw emr_* tables, created empty in the test database (rolled back after)."""
    init_emr(drop=True)
    return None
