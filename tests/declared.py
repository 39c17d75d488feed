"""Test-only summaries, declared the way a new summary is added: one declaration and one
model (here in the test app tests/declared_app, unmanaged, its table created by the tests
instead of a migration).

``visit_day``: per (day, location) completed visits, distinct patients, no-shows, the
no-show rate and visits per patient (ratios with their rounding). ``visit_trend``: the
same grain with a rolling 3-day sum and ranks among the day's locations.
"""
from __future__ import annotations

from typing import Sequence

from django.db import connection
from sqlalchemy import func, select

from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.groups import dated
from etl.queries.portable import date_part
from etl.summaries import formats
from etl.summaries.declare import (
    Count, CountDistinct, Declaration, Dimension, Equals, Input, OneOf, Rank, Ratio, Rolling, Source,
)
from etl.summaries.gates import Reconciliation
from etl.summaries.registry import declared

from .declared_app.models import VisitDay, VisitTrend  # noqa: F401 (the tests import them from here)


def visits(window: Sequence[DateRange] | None) -> select:
    """One row per raw visit: ``day``, ``location_id``, ``patient_id``, ``status``."""
    visit = raw("emr_visit")
    return (
        select(date_part(visit.c.start_at).label("day"), visit.c.location_id, visit.c.patient_id, visit.c.status)
        .where(dated(visit.c.start_at, window))
    )


COMPLETED = Equals("status", "completed")
NO_SHOW = Equals("status", "no_show")
COUNTED = Source("counted_visits", visits, filters=(OneOf("status", ("completed", "cancelled", "no_show")),))
GRAIN = (Dimension("day"), Dimension("location_id"))

VISIT_DAY = Declaration(
    name="visit_day",
    model_label="declared_app.VisitDay",
    description="visits per day and location (test)",
    grain=GRAIN,
    inputs=(Input("visits_by_location", COUNTED, (
        Count("nr_visits", when=COMPLETED),
        CountDistinct("nr_patients", "patient_id", when=COMPLETED),
        Count("nr_no_show", when=NO_SHOW),
    )),),
    derived=(
        Ratio("no_show_rate", "nr_no_show", ("nr_visits", "nr_no_show"), 4),
        Ratio("visits_per_patient", "nr_visits", "nr_patients", 2),
    ),
    formats=formats._table(
        day=formats.DAY, location_id=formats.LOCATION, nr_visits=formats.VISITS, nr_patients=formats.PATIENTS,
        nr_no_show=formats.NO_SHOW, no_show_rate=formats.NO_SHOW_RATE,
        visits_per_patient=formats.ColumnFormat("Visits per patient", "visits/patient", 2),
    ),
    gates=(Reconciliation("completed visits", lambda t: func.sum(t.c.nr_visits), "completed visits"),),
)

VISIT_TREND = Declaration(
    name="visit_trend",
    model_label="declared_app.VisitTrend",
    description="visits per day and location, 3-day sums and ranks (test)",
    grain=GRAIN,
    inputs=(Input("visits_by_location", COUNTED, (Count("nr_visits", when=COMPLETED), Count("nr_no_show", when=NO_SHOW))),),
    derived=(Ratio("no_show_rate", "nr_no_show", ("nr_visits", "nr_no_show"), 4),),
    windows=(
        Rolling("visits_3d", "nr_visits", "sum", partition_by=("location_id",), days=(-2, 0)),
        Rank("busiest_rank", "nr_visits", partition_by=("day",)),
        Rank("no_show_rank", "no_show_rate", partition_by=("day",)),
        Rank("no_show_pct_rank", "no_show_rate", partition_by=("day",), descending=False, percent=True),
    ),
    formats=formats._table(
        day=formats.DAY, location_id=formats.LOCATION, nr_visits=formats.VISITS, no_show_rate=formats.NO_SHOW_RATE,
        visits_3d=formats.ColumnFormat("Visits, 3 days", "visits", small_count=True),
        busiest_rank=formats.ColumnFormat("Rank by visits", "rank"),
        no_show_rank=formats.ColumnFormat("Rank by no-show rate", "rank"),
        no_show_pct_rank=formats.ColumnFormat("Percent rank by no-show rate", "%", 2),
    ),
)

VISIT_DAY_SUMMARY = declared(VISIT_DAY)
VISIT_TREND_SUMMARY = declared(VISIT_TREND)


def create_tables(*models_) -> None:
    """Create the test models' tables with the SQL Django's schema editor writes for them
    (its context manager cannot run inside a transaction on SQLite), inside the test's
    transaction: DDL is transactional on both databases, the rollback removes them."""
    editor = connection.SchemaEditorClass(connection, collect_sql=True)
    with connection.cursor() as cursor:
        for model in models_:
            sql, params = editor.table_sql(model)
            cursor.execute(sql, params)
