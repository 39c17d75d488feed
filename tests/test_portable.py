"""``OnPostgres`` (etl/queries/portable.py): one expression compiled per dialect."""
from sqlalchemy import Column, Integer, MetaData, Table, select

from etl import db
from etl.queries.portable import OnPostgres

TABLE = Table("t", MetaData(), Column("a", Integer), Column("b", Integer))


def test_each_dialect_compiles_its_own_branch_with_its_from():
    query = select(OnPostgres(TABLE.c.a, TABLE.c.b).label("v"))
    assert db.literal_sql(query, "postgresql") == "SELECT t.a AS v \nFROM t"
    assert db.literal_sql(query, "sqlite") == "SELECT t.b AS v \nFROM t"
