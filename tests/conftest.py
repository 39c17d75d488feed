"""Shared fixtures. The suite runs against whatever DATABASE_URL names (SQLite by default;
``make test`` runs it on SQLite and again on PostgreSQL)."""
import os
import uuid
from urllib.parse import urlparse

import psycopg2
import pytest

from etl import db as etl_db
from etl.db.schema import init_emr


@pytest.fixture
def emr(db):
    """The raw emr_* tables, created empty in the test database (rolled back after)."""
    init_emr(drop=True)
    return None


@pytest.fixture
def postgres_emr_url():
    """A throw-away PostgreSQL database for the raw tables, on the server named by
    TEST_POSTGRES_URL (``make test`` sets it whenever PostgreSQL is configured)."""
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        pytest.skip("TEST_POSTGRES_URL is not set: no PostgreSQL server configured for tests")
    parts = urlparse(server)
    name = f"emr_raw_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = parts._replace(scheme="postgresql+psycopg2", path=f"/{name}").geturl()
    yield url
    etl_db._engine(url).dispose()
    admin.cursor().execute(f'DROP DATABASE "{name}"')
    admin.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users in tests need no slow key stretching."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
