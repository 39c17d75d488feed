from django.db import connection


def test_raw_tables_created(emr):
    names = set(connection.introspection.table_names())
    assert {"emr_visit", "emr_shift", "staff_summary"} <= names
