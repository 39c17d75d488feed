"""Query builders: functions that take and return selectables, one unit per CTE.

They import SQLAlchemy and :mod:`etl.db.tables` only (no Django models, no services).
"""
