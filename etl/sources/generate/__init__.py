"""Deterministic synthetic raw EMR data of realistic shape, dirt included
(``manage.py generate_emr``).

- :mod:`.spec`: the validated arguments and the sizes that follow from them;
- :mod:`.dimensions`: locations, roles, staff, services, patients;
- :mod:`.facts`: visits and shifts, day by day;
- :mod:`.writers`: COPY (PostgreSQL) and executemany (SQLite) in one transaction;
- :mod:`.service`: :func:`generate_emr`, which ties them together.
"""
from etl.sources.generate.service import GenerateReport, emr_rows, generate_emr
from etl.sources.generate.spec import DEFAULT_END_DAY, GenerateError, GenerateSpec

__all__ = ["DEFAULT_END_DAY", "GenerateError", "GenerateReport", "GenerateSpec", "emr_rows", "generate_emr"]
