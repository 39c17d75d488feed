"""An index per measure a listing of the two big summaries may be ordered by, in the
order of ``?ordering=-measure`` (largest first, ties by id), on ``measure + 0``: a
superuser's unfiltered order by a measure sorted every row of the table (1.17M for
staff_summary, 238 ms); it now reads the first entries of the index. Only a whole table's
listing orders by that expression; a filtered one orders by the column and sorts its own
rows, as before (docs/web.md, "Speed")."""
from django.db import migrations, models
from django.db.models.expressions import CombinedExpression

MONEY = {"max_digits": 16, "decimal_places": 2}
RATIO = {"max_digits": 16, "decimal_places": 4}
MEASURES = [
    ("staffcostsummary", "staff_cost", [("rostered_hours", RATIO), ("staff_cost", MONEY), ("nr_staff", None),
                                        ("nr_visits", None), ("nr_patients", None), ("patients_per_hour", RATIO),
                                        ("cost_per_patient", RATIO)]),
    ("staffsummary", "staff_summary", [("nr_visits", None), ("nr_patients", None), ("nr_cancelled", None),
                                       ("nr_no_show", None), ("visit_minutes", MONEY)]),
]


def index(prefix: str, measure: str, decimal: dict | None) -> models.Index:
    def field():
        return models.DecimalField(**decimal) if decimal else models.IntegerField()
    plus_zero = models.ExpressionWrapper(
        CombinedExpression(models.F(measure), "+", models.Value(0, output_field=field())), output_field=field())
    return models.Index(models.OrderBy(plus_zero, descending=True), models.F("id"), name=f"{prefix}_m_{measure}")


class Migration(migrations.Migration):

    dependencies = [
        ('etl', '0012_web_filter_indexes'),
    ]

    operations = [
        migrations.AddIndex(model_name=model, index=index(prefix, measure, decimal))
        for model, prefix, measures in MEASURES for measure, decimal in measures
    ]
