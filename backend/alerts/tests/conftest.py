"""Fixtures of the alerts tests."""
import pytest
from django.db import connection


@pytest.fixture
def other_writer():
    """A second connection, like another ingest or worker process, whose transaction the test controls."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    import psycopg

    settings = connection.settings_dict
    conn = psycopg.connect(
        dbname=settings["NAME"], user=settings["USER"] or None, password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None, port=settings["PORT"] or None,
    )
    yield conn
    conn.close()
